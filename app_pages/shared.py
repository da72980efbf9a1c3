"""What several pages share: cached data sets, the cached simulator, and the start-up warm-up."""
import logging
import os
import threading

import streamlit as st

from survey_sim.data import DataError, DataRootNotFound, data_root, dataset_specs, load_dataset


@st.cache_resource(show_spinner="Loading survey data...")
def cached_dataset(name: str, root: str):
    return load_dataset(name, root=root)  # shared read-only: items are frozen


from survey_sim.data.loaders import UPLOAD_PREFIX as UPLOAD  # "upload:FILE" among the data set choices


@st.cache_resource(show_spinner="Loading the upload...")
def cached_upload(name: str, folder: str, modified: float):
    from survey_sim.data.uploads import load_upload

    return load_upload(name, folder)  # `modified` in the key: a replaced upload is loaded afresh


def stored_upload(choice: str):
    """The upload "upload:FILE", from memory unless the file changed since it was loaded."""
    from survey_sim.data.uploads import uploads_dir

    path = uploads_dir() / choice.removeprefix(UPLOAD)
    return cached_upload(path.name, str(path.parent), path.stat().st_mtime)


def dataset_or_stop(name: str):
    """The data set (a manifest name, or "upload:FILE" for a stored upload), or an error message
    (never a traceback) and the end of the page."""
    try:
        if name.startswith(UPLOAD):
            return stored_upload(name)
        return cached_dataset(name, str(data_root()))
    except (DataRootNotFound, DataError, FileNotFoundError, ValueError, OSError) as err:
        st.error(str(err))  # an upload edited or removed by hand since it was stored, a missing data root...
        st.stop()


def dataset_choices(countries_only: bool = False) -> list[str]:
    """The data sets a page offers: the manifest's (data/datasets.toml), then the user's uploads
    ("upload:FILE"). `countries_only`: those a world map can show (groups with ISO codes)."""
    from survey_sim.data.uploads import list_uploads
    from survey_sim.warmup import map_dataset_names

    manifest = map_dataset_names() if countries_only else list(dataset_specs())
    uploads = [UPLOAD + name for name in list_uploads()]
    if countries_only:
        uploads = [choice for choice in uploads if upload_has_countries(choice)]
    return [*manifest, *uploads]


def upload_has_countries(choice: str) -> bool:
    try:
        return any(item.iso3 for item in stored_upload(choice))
    except (ValueError, OSError):
        return False  # a broken upload is not offered on the map; the Data page says what is wrong


def dataset_title(choice: str) -> str:
    """How a choice reads in a list: "wvs: WVS wave 7 ..." or "my_survey.csv (your upload)"."""
    if choice.startswith(UPLOAD):
        return f"{choice.removeprefix(UPLOAD)} (your upload)"
    return f"{choice}: {dataset_specs(include_disabled=True)[choice].title}"


def dataset_source(choice: str) -> str:
    """The caption under a data set choice: where it comes from and its licence."""
    from survey_sim.data.uploads import uploads_dir

    if choice.startswith(UPLOAD):
        return f"Source: your upload, {uploads_dir() / choice.removeprefix(UPLOAD)}."
    spec = dataset_specs(include_disabled=True)[choice]
    return f"Source: {spec.source}. Licence: {spec.licence}."


def results_or_stop():
    """(rows, their file) of the results store (or the shipped reference), or an error naming
    the file and the end of the page when the store cannot be read."""
    from survey_sim.results import ResultsStoreError, shown_results

    try:
        return shown_results()
    except ResultsStoreError as err:
        st.error(str(err))
        st.stop()


def zero_shot_label() -> str:
    """How the pages name the base model without an adapter: "zero-shot (smollm2-135m)"."""
    from survey_sim.paths import app_model

    return f"zero-shot ({app_model()})"


@st.cache_resource(show_spinner="Loading the model (once per session of the server)...")
def cached_simulator(adapter: str | None = None, dtype: str = "float32", files: str = ""):
    """`files` (the adapter's file fingerprint) is only part of the cache key: a retrained adapter
    of the same name is loaded afresh instead of served from memory."""
    from survey_sim.simulator import Simulator
    from survey_sim.paths import app_model

    # Predictions are kept on disk: instant the second time.
    return Simulator.load(app_model(), adapter=adapter, dtype=dtype, cache=True)


def simulator_or_stop(adapter: str | None = None, dtype: str = "float32"):
    """The cached simulator, or an error message (never a traceback) and the end of the page:
    e.g. an adapter folder deleted or broken since the list was drawn."""
    try:
        return cached_simulator(adapter, dtype, adapter_files(adapter))
    except Exception as err:  # noqa: BLE001  (missing files, a corrupt safetensors file, a mismatched base model...)
        st.error(f"Could not load {'adapter ' + repr(adapter) if adapter else 'the model'}: {err}")
        st.stop()


def adapter_files(adapter: str | None) -> str:
    """Name, size and modification time of the adapter's files ("" without one, or if it is gone:
    loading then says what is wrong)."""
    from survey_sim.adapters import adapter_path
    from survey_sim.cache import file_fingerprint

    if not adapter:
        return ""
    try:
        return file_fingerprint(adapter_path(adapter))
    except (OSError, ValueError):
        return ""


def show_map(figure, iso3s) -> None:
    """A world map, drawn from the app's own topojson, with the countries it has data for but no
    shape to draw named beneath it (a blank country must not read as 'no data')."""
    from survey_sim.data.countries import display_name
    from survey_sim.geo import PLOTLY_CONFIG, without_shape

    st.plotly_chart(figure, config=PLOTLY_CONFIG, width="stretch")
    missing = without_shape(code for code in iso3s if code)
    if missing:
        names = ", ".join(name_or_code(display_name, code) for code in missing)
        st.caption(f"Not drawn (no shape on this map): {names}.")


def seen_in_training(adapter: str | None):
    """What the simulator was fitted on (`survey_sim.seen`), or None where it does not say."""
    return cached_seen(adapter, adapter_files(adapter), str(data_root()))


@st.cache_data(show_spinner=False)
def cached_seen(adapter: str | None, files: str, root: str):  # `files`: retrained or replaced, read afresh
    from survey_sim.seen import seen_in_training as read_seen

    return read_seen(adapter, root)


def training_mark(adapter: str | None, items) -> list[str]:
    """Per item: whether the simulator saw its country and question in training."""
    if not adapter:
        return ["base model: no survey rows"] * len(items)
    seen = seen_in_training(adapter)
    return [seen.describe(item) if seen else "not recorded" for item in items]


def show_collapse(check, about: str) -> None:
    """Under a simulated chart or map: how much the simulated countries differ, beside how much the
    real ones do (`robustness.Collapse`); a warning when the simulation says nearly the same for all."""
    text = f"**{about}.** {check.sentence()}"
    if check.collapsed:
        st.warning(text, icon=":material/warning:")
    else:
        st.caption(text)


def gis_downloads(table, name: str) -> None:
    """Download buttons for a map's per-country table with each country's shape (QGIS, R). The
    file is made when a button is clicked (geopandas loads then), not on every view."""
    from survey_sim.gis import FORMATS, export

    columns = st.columns(len(FORMATS) + 2)  # narrow buttons side by side
    for column, (file_format, (suffix, mime)) in zip(columns, FORMATS.items()):
        column.download_button(file_format, lambda file_format=file_format: export(table, file_format),
                               f"{name}.{suffix}", mime, icon=":material/download:", key=f"gis:{name}:{suffix}",
                               help="The table with each country's shape and world region, for QGIS or R")


def name_or_code(display_name, code: str) -> str:
    try:
        return display_name(code)
    except KeyError:
        return code


def default_adapter() -> str | None:
    """The pages' default simulator: the shipped adapter (adapters/, with its card) made for the
    app's base model, if there is one."""
    from survey_sim.adapters import shipped_adapter
    from survey_sim.paths import app_model

    entry = shipped_adapter(app_model())
    return entry["name"] if entry else None


def simulate(adapter: str | None, items: list, known: list = (), dtype: str = "float32") -> list:
    """The chosen simulator's predictions for `items`, made as its adapter was trained: an adapter
    fitted with --objective shift predicts the other groups' answers among `known`, moved by how
    the model says each group departs from anyone (survey_sim.methods.predict_as_trained)."""
    from survey_sim.adapters import adapter_metadata
    from survey_sim.methods import predict_as_trained

    return predict_as_trained(simulator_or_stop(adapter, dtype), adapter_metadata(adapter), items, known)


def how_it_predicts(adapter: str | None, surveyed: bool = True) -> str:
    """One sentence for a page's caption: what the chosen simulator's numbers are made of
    (`surveyed`: whether real answers to the question exist, as on Compare, not Ask the world)."""
    from survey_sim.adapters import adapter_metadata
    from survey_sim.methods import trained_method

    if not adapter or trained_method(adapter_metadata(adapter))[0] != "shift":
        return "The shares are the model's probabilities of the option letters."
    start = ("the mean of the other countries' (groups') real answers to the question" if surveyed else
             "the mean WVS answer share of each option position (no country answered this question)")
    return (f"{adapter} starts from {start} and moves it by how the fine-tuned model says each country departs "
            "from anyone; it never sees the country's own answers.")


def warm_default_views() -> None:
    """Load the default simulator into this server's cache and simulate the World map's default
    question (read from the disk cache when `make run`'s warm-up process got there first)."""
    from survey_sim import warmup
    from survey_sim.adapters import adapter_metadata

    try:
        dataset = cached_dataset(warmup.map_dataset_names()[0], str(data_root()))
        adapter = default_adapter()
        warmup.warm_default_views(dataset, cached_simulator(adapter, "float32", adapter_files(adapter)),
                                  adapter_metadata(adapter))
    except Exception as err:  # noqa: BLE001  (no data, no model: the pages say so themselves)
        logging.getLogger(__name__).warning("start-up warm-up skipped: %s", err)


WARMUP_THREAD = "survey-sim-warmup"


def _is_warmup_context_warning(record: logging.LogRecord) -> bool:
    # Streamlit warns once when a thread without a session touches its caches; the warm-up
    # thread belongs to no session on purpose (nothing it does is shown), so that one is noise.
    return not (record.threadName == WARMUP_THREAD and "missing ScriptRunContext" in record.getMessage())


@st.cache_resource(show_spinner=False)
def start_warmup() -> threading.Thread | None:
    """`warm_default_views` in a background thread, started by the server's first session."""
    from survey_sim.warmup import DISABLE_ENV

    if os.environ.get(DISABLE_ENV) == "1":
        return None
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_is_warmup_context_warning)
    thread = threading.Thread(target=warm_default_views, name=WARMUP_THREAD, daemon=True)
    thread.start()
    return thread
