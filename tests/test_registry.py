import pytest

from survey_sim.registry import Registry


def test_register_get_and_errors():
    things = Registry("thing")

    @things.register("alpha")
    def alpha():
        return 1

    assert things.get("alpha") is alpha and list(things) == ["alpha"]
    with pytest.raises(ValueError, match="thing 'alpha' registered twice"):
        things.add("alpha", 2)
    with pytest.raises(KeyError, match="unknown thing 'alpah'; available: alpha. Did you mean 'alpha'"):
        things.get("alpah")
