import pytest

from survey_sim.registry import Registry


def test_register_look_up_and_errors():
    things = Registry("thing")

    @things.register("alpha")
    def alpha():
        return 1

    assert things["alpha"] is alpha and list(things) == ["alpha"] and len(things) == 1
    with pytest.raises(ValueError, match="thing 'alpha' registered twice"):
        things.add("alpha", 2)
    with pytest.raises(KeyError, match="unknown thing 'alpah'; available: alpha. Did you mean 'alpha'"):
        things["alpah"]


def test_a_registry_is_a_read_only_mapping_with_the_usual_get():
    things = Registry("thing")
    things.add("alpha", 1)
    assert things.get("beta") is None and things.get("beta", 2) == 2 and things.get("alpha") == 1
    assert dict(things.items()) == {"alpha": 1} and "alpha" in things
    with pytest.raises(TypeError):
        things["beta"] = 2
