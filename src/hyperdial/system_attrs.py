"""The keys hyperdial itself writes into `system_attrs`, named once.

Trials:
- `FAIL_REASON`: why a trial is FAIL ("ValueError: ...", "no heartbeat for more than 120 s: ...").
- `PAUSED`: on a PRUNED trial that its pruner paused rather than stopped: the step it paused at.
- `SKIPPED`: why a trial ended before its objective ran (its scheduler did not admit it: past `n_configs`).
- `SUCCESSOR_OF` / `DUPLICATE_OF`: the paused trial a queued trial continues (`Study.enqueue_successor`),
  and, on a successor queued twice by racing processes, the number of the one that runs instead.
- `FIXED_PARAMS`: the values an enqueued (or rerun) trial must take.
- `RETRY_OF` / `RETRY_COUNT`: a rerun's original trial number, and how many reruns led to it.
- `PROPOSAL`: the joint sample made at `ask`, so samplers in other processes see where a
  running trial is headed (constant liar) before its objective asks for the values.
- `PBT_SEGMENT`: a population-based-training segment's place in its member's lineage
  (member, generation, parent trial, the step it pauses at, exploit/explore done); see
  `hyperdial.schedulers.lineage`.
- `RESUME_FROM`: the number of the trial whose latest checkpoint this trial starts from when it has none
  of its own (a retry's predecessor, a promoted trial's paused self, a PBT member's donor); followed transitively.
- `CHECKPOINTS` / `ARTIFACTS`: the files a trial saved in the study's artifact store, a list of
  {step, path, size, sha256, time[, metric]} / {name, path, size, sha256, time} (docs/checkpoints.md).
- `WORKER`: where the trial runs, "host:pid" (with "/thread" when not the main thread): stored with the
  trial when `ask` claims it (no extra write), replaced by `study.run_trial` when another thread or
  process runs it (optimize's threads, process pools, Dask, Ray).
- `SAMPLER_CHOICE`: what the sampler's optional `explain` hook said about the trial's proposal
  ({"algorithm", "reason"} for Auto), stored when it changes (see `hyperdial._plugins.explain`).
Studies:
- `LIVENESS`: the heartbeat settings every worker of the study shares.
- `ARTIFACT_STORE` / `KEEP_CHECKPOINTS`: where the study's checkpoints and artifacts live (a directory or
  fsspec URL, when chosen at `create_study`) and which checkpoints a trial keeps.
- `STOP_REQUEST`: the UNIX time of the latest `study.stop(everywhere=True)` (the dashboard's
  "stop study"): every `optimize` that began before it starts no new trial.

>>> import hyperdial as hd
>>> study = hd.create_study()
>>> study.optimize(lambda t: float("nan"), n_trials=1, show_progress_bar=False)
>>> study.trials[0].system_attrs[FAIL_REASON]
'the objective returned nan, which is not a finite number'
"""

FAIL_REASON = "fail_reason"
FIXED_PARAMS = "fixed_params"
PAUSED = "paused"
SUCCESSOR_OF = "successor_of"
DUPLICATE_OF = "duplicate_of"
SKIPPED = "skipped"
RETRY_OF = "retry_of"
RETRY_COUNT = "retry_count"
PROPOSAL = "proposal"
LIVENESS = "liveness"
RESUME_FROM = "resume_from"
PBT_SEGMENT = "pbt_segment"
CHECKPOINTS = "checkpoints"
ARTIFACTS = "artifacts"
ARTIFACT_STORE = "artifact_store"
KEEP_CHECKPOINTS = "keep_checkpoints"
STOP_REQUEST = "stop_request"
WORKER = "worker"
SAMPLER_CHOICE = "sampler_choice"
