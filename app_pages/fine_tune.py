"""Fine-tune: start a LoRA run in the background, watch it, cancel it, evaluate the adapter.

Runs are jobs of `survey_sim.jobs`: a separate process each, one at a time, so they survive
page reloads and closed browsers. A finished run is an adapter that every page can use.
"""
import datetime as dt
import time
from dataclasses import fields
from typing import Literal, get_args, get_origin, get_type_hints

import pandas as pd
import streamlit as st

from survey_sim.data import dataset_specs, split_names
from survey_sim.adapters import list_adapters
from survey_sim.data.uploads import list_uploads
from survey_sim.jobs import ACTIVE, Job, JobQueue
from survey_sim.paths import ALIASES, local_base_models, models_dir
from survey_sim.training.config import GROUPS, TrainConfig, without_none

from app_pages.shared import UPLOAD

DEFAULTS = TrainConfig()  # the paper's recipe prefills the form
HINTS = get_type_hints(TrainConfig)
OPEN_GROUPS = ("data", "lora", "optimiser")  # the others start folded


@st.cache_resource
def job_queue(folder: str) -> JobQueue:
    return JobQueue(folder)


def field_input(f, default, hint: str, container, choices: dict[str, list[str]]):
    """The form widget of one TrainConfig field, chosen by its type (`option()` in training/config.py)."""
    meta, label = f.metadata, f.metadata["label"]
    kind, nullable = without_none(HINTS[f.name])
    if nullable and meta["none"] and kind in (int, float):
        label = f"{label} (0: {meta['none']})"
    if meta["choices"]:
        options = [None, *choices[meta["choices"]]] if nullable else choices[meta["choices"]]
        return container.selectbox(label, options, index=options.index(default), help=hint,
                                   format_func=lambda value: meta["none"] if value is None else str(value))
    if get_origin(kind) is Literal:
        options = [None, *get_args(kind)] if nullable else list(get_args(kind))
        return container.selectbox(label, options, index=options.index(default), help=hint,
                                   format_func=lambda value: meta["none"] if value is None else str(value))
    if kind is bool:
        return container.checkbox(label, default, help=hint)
    if get_origin(kind) is list:
        return container.text_input(label, ", ".join(default), help=hint + " (comma-separated)")
    if kind in (int, float):
        bounds = [kind(meta["low"]), kind(meta["high"])] if meta["low"] is not None else [None, None]
        step = None if kind is int else (0.01 if default < 1 else 1.0)
        return container.number_input(label, *bounds, kind(default or 0), step=step, help=hint,
                                      format="%.0e" if f.name == "learning_rate" else None)
    return container.text_input(label, default or "", help=hint)


def config_values(widgets: dict) -> dict:
    """The form's values as TrainConfig fields: lists split, 0 as None where None means something."""
    values = {}
    for f in fields(TrainConfig):
        value = widgets[f.name]
        kind, nullable = without_none(HINTS[f.name])
        if isinstance(value, str):
            is_list = get_origin(kind) is list
            value = [v.strip() for v in value.split(",") if v.strip()] if is_list else value.strip()
            value = None if nullable and value == "" else value  # an empty box: the field's "none"
        elif nullable and value == 0:
            value = None
        values[f.name] = value
    return values


def config_form() -> TrainConfig | None:
    """The form, made from TrainConfig's fields: a TrainConfig when submitted with valid values."""
    choices = {"datasets": [*(n for n, spec in dataset_specs().items() if spec.survey in ("wvs", "pew")),
                            *(UPLOAD + name for name in list_uploads())],  # your surveys: train on split "all"
               "splits": split_names(),
               "models": [*ALIASES, *local_base_models()],
               "adapters": [entry["name"] for entry in list_adapters()]}
    defaults = {**DEFAULTS.to_dict(), "name": f"smollm2-wvs-{dt.datetime.now():%Y%m%d-%H%M}"}
    widgets = {}
    with st.form("train"):
        for group, title in GROUPS.items():
            members = [f for f in fields(TrainConfig) if f.metadata["group"] == group]
            box = st.container() if group == "run" else st.expander(title, expanded=group in OPEN_GROUPS)
            columns = box.columns(2)
            for n, f in enumerate(members):
                widgets[f.name] = field_input(f, defaults[f.name], f.metadata["help"], columns[n % 2], choices)
        if not st.form_submit_button("Start fine-tuning", type="primary"):
            return None
    try:
        return TrainConfig.from_dict(config_values(widgets))
    except ValueError as err:
        st.error(f"Not started: {err}")
        return None


def show_active(job: Job, queue: JobQueue) -> None:
    status = job.status()
    st.markdown(f"**Job {job.id}: {job.name}** ({job.state}, started "
                f"{dt.datetime.fromtimestamp(job.started or job.created):%H:%M:%S})")
    step, max_steps = status.get("step") or 0, status.get("max_steps") or 0
    if job.state == "queued":
        st.info("Queued: it starts when the run before it ends (one run at a time uses the machine).")
    elif job.kind == "evaluate":
        st.progress(0.0, text=f"scoring {job.config['adapter']} (progress in the log below)...")
    elif status.get("state") == "unreadable":  # garbage in its status file: the log below still says how it goes
        st.warning(f"Progress of job {job.id} unreadable: {status['error']}")
    elif not max_steps:
        st.progress(0.0, text=f"{status.get('state', 'starting')}: loading data and model...")
    else:
        first = ": the first step also compiles the model (about half a minute)" if step == 0 else ""
        st.progress(min(step / max_steps, 1.0), text=f"step {step} of {max_steps}{first}")
        validation = status.get("validation") or []
        c1, c2, c3, c4 = st.columns(4)
        c1.metric("Epoch", f"{status.get('epoch') or 0:.2f}")
        c2.metric("Training loss", f"{status['loss']:.4f}" if "loss" in status else "-")
        c3.metric("Validation 1-JSD", f"{validation[-1]['1-jsd_paper']:.3f}" if validation else "-",
                  help="paper-compatible 1-JSD on the validation split after the last evaluation")
        c4.metric("Time left", f"{status['eta_s'] / 60:.1f} min" if status.get("eta_s") is not None else "-")
    if st.button("Cancel", key=f"cancel:{job.id}"):
        queue.cancel(job.id)
        st.rerun()
    with st.expander("Log", expanded=job.state == "running"):
        st.code(job.log_tail(30) or "(nothing yet)", language=None)


def history_table(jobs: list[Job]) -> pd.DataFrame:
    def best(job):  # NaN, not None: a run that never validated shows an empty cell
        return (job.status().get("best") or {}).get("eval_1-jsd_paper", float("nan"))

    def data(job):
        if job.kind == "evaluate":
            return job.config["command"][job.config["command"].index("--test") + 1]
        return f"{job.config['dataset']}:{job.config['train_split']}"

    return pd.DataFrame({
        "job": [j.id for j in jobs], "what": [j.name for j in jobs], "state": [j.state for j in jobs],
        "submitted": [dt.datetime.fromtimestamp(j.created) for j in jobs],
        "minutes": [round((j.finished - j.started) / 60, 1) if j.finished and j.started else float("nan")
                    for j in jobs],
        "best validation 1-JSD": [best(j) for j in jobs],
        "data": [data(j) for j in jobs],
        "error": [j.error or "" for j in jobs],
    })


def evaluate_button(finished: list[Job], queue: JobQueue) -> None:
    """Score the latest fine-tuned adapter in the background, so it reaches the Leaderboard
    without the command line."""
    trained = [j for j in finished if j.kind == "train" and j.state == "done"]
    if not trained:
        return
    adapter = trained[0].name
    asked = {j.config.get("adapter") for j in queue.jobs() if j.kind == "evaluate" and j.state != "failed"}
    if adapter in asked:
        st.caption(f"{adapter} is evaluated (or queued to be): its scores appear on the Leaderboard.")
    elif st.button(f"Evaluate {adapter}", key=f"evaluate:{trained[0].id}", icon=":material/leaderboard:",
                   help="Runs `survey-sim evaluate` on its validation split in the background, as the app "
                        "predicts with it; the scores go to the Leaderboard."):
        try:
            queue.submit_evaluation(adapter)
        except ValueError as err:
            st.error(f"Not queued: {err}")
        else:
            st.rerun()


st.title("Fine-tune")
st.caption("LoRA fine-tuning in the background, prefilled with the paper's recipe (r=8, alpha=32, dropout 0.05, "
           "AdamW at 1e-4, KL(human || model)). Runs keep going when you close the page.")
queue = job_queue(str(models_dir() / "jobs"))
for job in queue.reconcile():
    st.warning(f"Job {job.id} ({job.name}) stopped: its process died. The log below says where.")

panel = st.container()  # progress first; filled in below, after a submitted form has queued its job
st.subheader("New run")
config = config_form()
if config is not None:
    try:
        job = queue.submit(config)
    except ValueError as err:
        st.error(f"Not started: {err}")
    else:
        waiting = len(queue.jobs(states=ACTIVE)) - 1
        # A toast, not a message that stays: the panel above follows the job from here.
        st.toast(f"Job {job.id} ({job.name}) submitted" + (f", behind {waiting} run(s)." if waiting else "."))
        st.caption(f"The same on the command line: `survey-sim train --config {job.config_path}`")


@st.fragment(run_every=2 if queue.jobs(states=ACTIVE) else None)
def jobs_panel():
    active = queue.jobs(states=ACTIVE)
    st.subheader("Running and queued")
    if not active:
        st.caption("Nothing running.")
    for job in reversed(active):  # oldest (the running one) first
        show_active(job, queue)
    finished = queue.jobs(states=("done", "failed", "cancelled"))
    if finished:
        st.subheader("Finished")
        latest = finished[0]
        box = {"done": st.success, "failed": st.error, "cancelled": st.info}[latest.state]
        box(f"Latest: job {latest.id} ({latest.name}) {latest.state}"
            + (f": {latest.error}" if latest.error else "") + ".")
        st.dataframe(history_table(finished), hide_index=True,
                     column_config={"best validation 1-JSD": st.column_config.NumberColumn(format="%.3f")})
        st.caption("Finished runs are adapters: pick them on the Compare and World map pages.")
        evaluate_button(finished, queue)
        failed = [j for j in finished if j.state == "failed"]
        if failed:
            with st.expander(f"Log of the last failed run (job {failed[0].id})"):
                st.code(failed[0].log_tail(40), language=None)
    st.caption(f"Updated {time.strftime('%H:%M:%S')}.")


with panel:
    jobs_panel()
