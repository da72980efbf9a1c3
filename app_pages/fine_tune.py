"""Fine-tune: start a LoRA run in the background, watch it, cancel it.

Runs are jobs of `survey_sim.jobs`: a separate process each, one at a time, so they survive
page reloads and closed browsers. A finished run is an adapter that every page can use.
"""
import datetime as dt
import time

import pandas as pd
import streamlit as st

from survey_sim.data import dataset_specs, split_names
from survey_sim.jobs import ACTIVE, Job, JobQueue
from survey_sim.losses import LOSSES
from survey_sim.paths import models_dir
from survey_sim.training import TrainConfig

DEFAULTS = TrainConfig()  # the paper's recipe prefills the form


@st.cache_resource
def job_queue(folder: str) -> JobQueue:
    return JobQueue(folder)


def config_form() -> TrainConfig | None:
    """The form; a TrainConfig when it was submitted with valid values."""
    datasets = [n for n, spec in dataset_specs().items() if spec.survey in ("wvs", "pew")]
    splits = split_names()
    with st.form("train"):
        name = st.text_input("Adapter name", f"smollm2-wvs-{dt.datetime.now():%Y%m%d-%H%M}",
                             help="letters, digits, '.', '_' and '-'; the adapter appears under this name")
        model = st.text_input("Base model", DEFAULTS.model, help="the embedded default, a local folder or a .gguf file")
        left, right = st.columns(2)
        dataset = left.selectbox("Training data", datasets, index=datasets.index(DEFAULTS.dataset))
        train_split = right.selectbox("Training split", splits, index=splits.index(DEFAULTS.train_split))
        valid_dataset = left.selectbox("Validation data", datasets, index=datasets.index(DEFAULTS.valid_dataset))
        valid_split = right.selectbox("Validation split", splits, index=splits.index(DEFAULTS.valid_split),
                                      help="scored after every epoch; the best epoch's adapter is kept")
        loss = st.radio("Loss", list(LOSSES), horizontal=True, index=list(LOSSES).index(DEFAULTS.loss),
                        help=" ".join(f"{n}: {(LOSSES[n].__doc__ or '').strip().splitlines()[0]}" for n in LOSSES))
        c1, c2, c3, c4 = st.columns(4)
        lora_r = c1.number_input("LoRA r", 1, 256, DEFAULTS.lora_r)
        lora_alpha = c2.number_input("LoRA alpha", 1, 1024, DEFAULTS.lora_alpha)
        lora_dropout = c3.number_input("LoRA dropout", 0.0, 0.9, DEFAULTS.lora_dropout, step=0.01)
        learning_rate = c4.number_input("Learning rate", 1e-6, 1e-2, DEFAULTS.learning_rate, format="%.0e")
        batch_size = c1.number_input("Batch size", 1, 512, DEFAULTS.batch_size)
        epochs = c2.number_input("Epochs", 0.1, 50.0, DEFAULTS.epochs, step=1.0)
        max_steps = c3.number_input("Max steps (-1: by epochs)", -1, 1_000_000, DEFAULTS.max_steps)
        max_valid = c4.number_input("Validation items (0: all)", 0, 100_000, DEFAULTS.max_valid_items or 0,
                                    help="at each evaluation, score a fixed seeded sample of this many validation rows "
                                         "(faster on a CPU); the kept adapter is then scored on all of them")
        shuffle = st.checkbox("Shuffle option order every epoch", DEFAULTS.shuffle_options)
        if not st.form_submit_button("Start fine-tuning", type="primary"):
            return None
    try:
        return TrainConfig(name=name.strip(), model=model.strip(), dataset=dataset, train_split=train_split,
                           valid_dataset=valid_dataset, valid_split=valid_split, loss=loss, lora_r=int(lora_r),
                           lora_alpha=int(lora_alpha), lora_dropout=lora_dropout, learning_rate=learning_rate,
                           batch_size=int(batch_size), epochs=epochs, max_steps=int(max_steps),
                           max_valid_items=int(max_valid) or None, shuffle_options=shuffle)
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
    elif not max_steps:
        st.progress(0.0, text=f"{status.get('state', 'starting')}: loading data and model...")
    else:
        st.progress(min(step / max_steps, 1.0), text=f"step {step} of {max_steps}")
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
    def best(job):
        return (job.status().get("best") or {}).get("eval_1-jsd_paper")

    return pd.DataFrame({
        "job": [j.id for j in jobs], "adapter": [j.name for j in jobs], "state": [j.state for j in jobs],
        "submitted": [dt.datetime.fromtimestamp(j.created) for j in jobs],
        "minutes": [round((j.finished - j.started) / 60, 1) if j.finished and j.started else None for j in jobs],
        "best validation 1-JSD": [best(j) for j in jobs],
        "data": [f"{j.config['dataset']}:{j.config['train_split']}" for j in jobs],
        "error": [j.error or "" for j in jobs],
    })


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
        st.success(f"Job {job.id} ({job.name}) {'queued behind ' + str(waiting) + ' run(s)' if waiting else 'started'}.")
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
        failed = [j for j in finished if j.state == "failed"]
        if failed:
            with st.expander(f"Log of the last failed run (job {failed[0].id})"):
                st.code(failed[0].log_tail(40), language=None)
    st.caption(f"Updated {time.strftime('%H:%M:%S')}.")


with panel:
    jobs_panel()
