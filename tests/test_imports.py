"""torch, transformers and peft are imported only where models run: folders, results, jobs,
caches, training configs, the CLI's parser (`survey-sim --help` of every command) and the whole
pipeline on the weightless dummy backend do without them. One fresh interpreter checks it all."""
import json
import subprocess
import sys

SCRIPT = """
import contextlib, io, json, sys
import survey_sim.paths, survey_sim.adapters, survey_sim.results, survey_sim.jobs, survey_sim.cache
import survey_sim.training.config, survey_sim.training.status
from survey_sim import cli

heavy = lambda: sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules)
seen = {"light modules": heavy()}
parser = cli.build_parser()
for command in ('train', 'evaluate', 'predict', 'baselines', 'adapters', 'results', 'compare'):
    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
        parser.parse_args([command, '--help'])
seen["--help"] = heavy()
rows, out = sys.argv[1], sys.argv[2]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    codes = [cli.main(['evaluate', '--model', 'dummy', '--method', 'ctrl', '--input', rows, '--output', out + '.csv']),
             cli.main(['predict', '--model', 'dummy', '--input', rows, '--output', out + '.jsonl'])]
seen["dummy evaluate and predict"] = heavy()
print(json.dumps({"seen": seen, "codes": codes}))
"""


def test_light_modules_help_and_the_dummy_pipeline_import_no_torch(tmp_path):
    rows = tmp_path / "rows.jsonl"
    listed = [("Is it good?", ["Yes", "No"], "Peru"), ("How often?", ["Never", "Sometimes", "Often"], "Japan")]
    rows.write_text("\n".join(json.dumps({"question": q, "options": o, "group": g, "distribution": [1 / len(o)] * len(o)})
                              for q, o, g in listed))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(rows), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["seen"] == {"light modules": [], "--help": [], "dummy evaluate and predict": []}
    assert result["codes"] == [0, 0]
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2
