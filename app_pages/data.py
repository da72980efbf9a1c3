"""Data: what each data set holds, where it comes from, and what loading it fixed or dropped;
and your own survey files, checked on upload and stored under data/uploads/."""
import pandas as pd
import streamlit as st

from survey_sim.data import DataError, dataset_specs, user_import
from survey_sim.data.report import dataset_summary, items_table, split_counts, unmapped_groups
from survey_sim.data.countries import is_non_national
from survey_sim.data.uploads import MAX_BYTES, list_uploads, save_upload, uploads_dir

from app_pages.shared import UPLOAD, dataset_or_stop, dataset_title

def problems_box(err: DataError) -> None:
    shown = "\n".join(err.problems[:50]) + (f"\n... and {len(err.problems) - 50} more" if len(err.problems) > 50 else "")
    # a code block: the problems quote user text, which markdown would otherwise render
    st.error(f"**{err.file}** was not stored, {len(err.problems)} problem(s):\n```\n{shown}\n```")


def upload_section() -> None:
    st.markdown("Add your own survey: JSON, JSON Lines or a long CSV, one (question, group) per row. Every row is "
                "checked; a file with a bad row is not stored, and the message names the row and field.")
    with st.expander("File format"):
        st.code(user_import.__doc__.strip(), language=None)
    with st.form("upload_form", clear_on_submit=True):  # cleared, so a rerun does not store it twice
        file = st.file_uploader("Survey file", type=["json", "jsonl", "csv"], key="upload_file",
                                max_upload_size=MAX_BYTES // 2**20)
        replace = st.checkbox("Replace a stored upload of the same name", key="upload_replace")
        submitted = st.form_submit_button("Check and store")
    if submitted and file is not None:
        try:
            path = save_upload(file.name, file.getvalue(), overwrite=replace)
        except DataError as err:
            problems_box(err)
        except (OSError, ValueError) as err:  # name taken, unusable name, folder not writable
            st.error(f"{file.name} was not stored: {err}")
        else:
            st.session_state["data_dataset"] = UPLOAD + path.name  # the Data sets tab shows it next
            st.success(f"{path.name} is valid and stored in {path.parent}; it is selected in the Data sets tab.")
    uploads = list_uploads()
    st.markdown(f"**Stored uploads** ({uploads_dir()}): " + (", ".join(f"`{n}`" for n in uploads) or "none yet"))


def show_dataset(choice: str, specs: dict):
    """Source and licence of the chosen data set (or upload), and the loaded data set."""
    if choice.startswith(UPLOAD):
        dataset = dataset_or_stop(choice)
        st.markdown(f"**Source:** your upload, `{uploads_dir() / dataset.name}`")
        return dataset
    spec = specs[choice]
    if not spec.enabled:
        st.info("A raw input of the rebuilt data sets, as published (off by default): the rebuilt `wvs` and `pew` "
                "carry its rows with ids, option texts and the repairs listed in their reports.")
    dataset = dataset_or_stop(choice)
    st.markdown(f"**Source:** {spec.source}  \n**Licence:** {spec.licence}")
    return dataset


st.title("Data")
st.caption("Every data set survey-sim knows (data/datasets.toml), checked on load, and your uploads. "
           "The same report on the command line: `survey-sim data report NAME`.")
browse_tab, upload_tab = st.tabs(["Data sets", "Upload your own survey"])
with upload_tab:  # drawn first: browsing ends the script (st.stop) when the survey files are missing
    upload_section()

with browse_tab:
    specs = dataset_specs(include_disabled=True)
    choices = [*specs, *(UPLOAD + n for n in list_uploads())]
    if st.session_state.get("data_dataset") not in choices:  # e.g. an upload removed by hand
        st.session_state.pop("data_dataset", None)
    choice = st.selectbox("Data set", choices, key="data_dataset", format_func=dataset_title)
    dataset = show_dataset(choice, specs)
    st.dataframe(pd.DataFrame([dataset_summary(dataset)]), hide_index=True)
    with st.expander(f"Rows ({len(dataset):,})", expanded=choice.startswith(UPLOAD)):
        st.dataframe(items_table(dataset), hide_index=True)

    splits = split_counts(dataset) if not choice.startswith(UPLOAD) else []  # WVS's splits mean nothing for it
    if len(splits):
        st.subheader("Splits")
        st.dataframe(splits, hide_index=True)

    st.subheader("What loading changed")
    for report in dataset.reports:
        with st.expander(report.summary(), expanded=False):
            for reason in report.dropped:
                st.text(f"dropped {reason}")
            for warning in report.warnings:
                st.text(f"note: {warning}")

    unmapped = unmapped_groups(dataset)
    if unmapped:
        st.subheader("Groups without an ISO country code")
        st.dataframe(pd.DataFrame({"group": unmapped, "non-national sample": [is_non_national(g) for g in unmapped]}),
                     hide_index=True)
