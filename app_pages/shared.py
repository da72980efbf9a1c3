"""What several pages share: cached data sets and the error box for missing data."""
import streamlit as st

from survey_sim.data import DataError, DataRootNotFound, data_root, load_dataset


@st.cache_resource(show_spinner="Loading survey data...")
def cached_dataset(name: str, root: str):
    return load_dataset(name, root=root)  # shared read-only: items are frozen


def dataset_or_stop(name: str):
    """The data set, or an error message (never a traceback) and the end of the page."""
    try:
        return cached_dataset(name, str(data_root()))
    except (DataRootNotFound, DataError, FileNotFoundError) as err:
        st.error(str(err))
        st.stop()


@st.cache_resource(show_spinner="Loading the model (once per session of the server)...")
def cached_simulator(adapter: str | None = None, dtype: str = "float32"):
    from survey_sim.scoring import Simulator

    return Simulator(adapter=adapter, dtype=dtype, cache=True)  # predictions kept on disk: instant the second time


def simulator_or_stop(adapter: str | None = None, dtype: str = "float32"):
    """The cached simulator, or an error message (never a traceback) and the end of the page:
    e.g. an adapter folder deleted or broken since the list was drawn."""
    try:
        return cached_simulator(adapter, dtype)
    except Exception as err:  # noqa: BLE001  (missing files, a corrupt safetensors file, a mismatched base model...)
        st.error(f"Could not load {'adapter ' + repr(adapter) if adapter else 'the model'}: {err}")
        st.stop()
