"""Conformance checks for `Storage` implementations: `check(make_storage)`.

`make_storage()` must return a new, empty storage each time it is called.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from hyperdial.exceptions import DuplicatedStudyError, StudyNotFound, TrialFinishedError
from hyperdial.space import Categorical, Float, Int
from hyperdial.storage.base import Storage
from hyperdial.testing._expect import expect
from hyperdial.trial import FrozenTrial, TrialState

MakeStorage = Callable[[], Storage]


def check_study_lifecycle(make: MakeStorage) -> None:
    s = make()
    sid = s.create_study("a", ["minimize"])
    sid2 = s.create_study("b", ["minimize", "maximize"])
    expect(sid != sid2, "study ids must differ")
    try:
        s.create_study("a", ["minimize"])
        raise AssertionError("a duplicate study name must raise DuplicatedStudyError")
    except DuplicatedStudyError:
        pass
    info = s.get_study("b")
    expect(info.study_id == sid2 and info.directions == ("minimize", "maximize"), f"get_study gave {info}")
    expect(sorted(x.name for x in s.list_studies()) == ["a", "b"], "list_studies must list both studies")
    s.set_study_attr(sid, "k", {"nested": [1, 2]})
    s.set_study_attr(sid, "k2", "sys", system=True)
    got = s.get_study("a")
    expect(got.user_attrs == {"k": {"nested": [1, 2]}}, f"study user attrs round-trip, got {got.user_attrs}")
    expect(got.system_attrs == {"k2": "sys"}, f"study system attrs round-trip, got {got.system_attrs}")
    s.create_trial(sid)
    s.delete_study(sid)
    try:
        s.get_study("a")
        raise AssertionError("a deleted study must raise StudyNotFound")
    except StudyNotFound:
        pass
    expect([x.name for x in s.list_studies()] == ["b"], "only study b must remain")


def check_trial_numbers_dense(make: MakeStorage) -> None:
    s = make()
    a = s.create_study("a", ["minimize"])
    b = s.create_study("b", ["minimize"])
    nums_a = [s.create_trial(a).number for _ in range(5)]
    nums_b = [s.create_trial(b).number for _ in range(3)]
    expect(nums_a == [0, 1, 2, 3, 4] and nums_b == [0, 1, 2], f"numbers per study, got {nums_a} {nums_b}")


def check_params_round_trip(make: MakeStorage) -> None:
    s = make()
    sid = s.create_study("a", ["minimize"])
    t = s.create_trial(sid)
    dists = {
        "f": (Float(-1.5, 2.5), 0.123456789012345),
        "flog": (Float(1e-6, 1.0, log=True), 3.3e-5),
        "fstep": (Float(0.0, 1.0, step=0.1), 0.7),
        "i": (Int(-3, 10), 7),
        "ilog": (Int(1, 1024, log=True), 64),
        "istep": (Int(0, 100, step=5), 35),
        "c": (Categorical([None, True, 1, 2.5, "x"]), None),
        "cb": (Categorical([None, True, 1, 2.5, "x"]), True),
        "cs": (Categorical(["adam", "sgd"]), "sgd"),
    }
    s.set_params(t.trial_id, {k: (d.to_internal(v), d) for k, (d, v) in dists.items()})
    got = s.get_trial(t.trial_id)
    for k, (d, v) in dists.items():
        expect(got.distributions[k] == d, f"distribution of {k} round-trip: {got.distributions[k]!r} != {d!r}")
        gv = got.params[k]
        expect(gv == v and type(gv) is type(v), f"param {k}: stored {v!r}, read {gv!r}")


def check_reports_and_attrs(make: MakeStorage) -> None:
    s = make()
    sid = s.create_study("a", ["minimize"])
    t = s.create_trial(sid)
    s.report(t.trial_id, 0, 1.5)
    s.report(t.trial_id, 3, float("nan"))
    s.report(t.trial_id, 10, float("inf"))
    s.set_trial_attr(t.trial_id, "note", {"a": [1, "b"], "c": None})
    s.set_trial_attr(t.trial_id, "note", "overwritten")
    s.set_trial_attr(t.trial_id, "fail_reason", "x", system=True)
    got = s.get_trial(t.trial_id)
    iv = got.intermediate_values
    expect(iv[0] == 1.5 and math.isnan(iv[3]) and iv[10] == math.inf, f"intermediate values, got {iv}")
    expect(list(iv) == [0, 3, 10], f"intermediate values ordered by step, got {list(iv)}")
    expect(got.user_attrs == {"note": "overwritten"}, f"user attrs upsert, got {got.user_attrs}")
    expect(got.system_attrs == {"fail_reason": "x"}, f"system attrs, got {got.system_attrs}")


def check_finish_is_final(make: MakeStorage) -> None:
    s = make()
    sid = s.create_study("a", ["minimize", "maximize"])
    t = s.create_trial(sid)
    when = s.finish_trial(t.trial_id, TrialState.COMPLETE, [1.0, -2.0])
    got = s.get_trial(t.trial_id)
    expect(got.state == TrialState.COMPLETE and got.values == (1.0, -2.0), f"finished trial, got {got}")
    expect(got.datetime_complete is not None and abs((got.datetime_complete - when).total_seconds()) < 1e-3,
           "datetime_complete is the returned time")
    for name, write in [
        ("finish_trial", lambda: s.finish_trial(t.trial_id, TrialState.FAIL, None)),
        ("set_params", lambda: s.set_params(t.trial_id, {"x": (0.5, Float(0, 1))})),
        ("report", lambda: s.report(t.trial_id, 1, 0.1)),
        ("set_trial_attr", lambda: s.set_trial_attr(t.trial_id, "k", 1)),
    ]:
        try:
            write()
            raise AssertionError(f"{name} on a finished trial must raise TrialFinishedError")
        except TrialFinishedError:
            pass
    s.heartbeat(t.trial_id)  # a late beat from the finished trial's worker: a no-op, never an error
    expect(s.get_trial(t.trial_id) == got, "a finished trial must not change")


def check_enqueued_run_first(make: MakeStorage) -> None:
    s = make()
    sid = s.create_study("a", ["minimize"])
    s.create_trial(sid)  # number 0, running
    for x in (1, 2):
        s.create_trial(sid, template=FrozenTrial(number=-1, state=TrialState.WAITING,
                                                 system_attrs={"fixed_params": {"x": x}}))
    first, second, third = (s.create_trial(sid) for _ in range(3))
    expect((first.number, first.system_attrs["fixed_params"]) == (1, {"x": 1}), f"first claim, got {first}")
    expect((second.number, second.system_attrs["fixed_params"]) == (2, {"x": 2}), f"second claim, got {second}")
    expect(third.number == 3 and "fixed_params" not in third.system_attrs, f"then a new trial, got {third}")
    expect(all(t.state == TrialState.RUNNING for t in (first, second, third)), "claimed trials are RUNNING")


def check_create_trial_with_system_attrs(make: MakeStorage) -> None:
    """`create_trial(system_attrs=...)` sets them on the new or claimed trial in the same write."""
    s = make()
    sid = s.create_study("a", ["minimize"])
    s.create_trial(sid, template=FrozenTrial(number=-1, state=TrialState.WAITING, system_attrs={"fixed_params": {"x": 1}}))
    claimed, new = (s.create_trial(sid, system_attrs={"worker": f"w{i}"}) for i in range(2))
    for t, i in ((claimed, 0), (new, 1)):
        expect(t.system_attrs.get("worker") == f"w{i}", f"returned with the attribute, got {t.system_attrs}")
        expect(s.get_trial(t.trial_id).system_attrs.get("worker") == f"w{i}", "stored with the trial")
    expect(s.get_trial(claimed.trial_id).system_attrs.get("fixed_params") == {"x": 1}, "a claim keeps its own attributes")


def check_add_finished_trial(make: MakeStorage) -> None:
    s = make()
    sid = s.create_study("a", ["minimize"])
    d = Float(0, 1)
    tmpl = FrozenTrial(number=-1, state=TrialState.COMPLETE, values=(0.25,), params={"x": 0.5},
                       distributions={"x": d}, user_attrs={"src": "import"}, intermediate_values={0: 1.0, 1: 0.5})
    got = s.create_trial(sid, template=tmpl)
    expect(got.number == 0 and got.state == TrialState.COMPLETE and got.values == (0.25,), f"added, got {got}")
    expect(got.params == {"x": 0.5} and got.intermediate_values == {0: 1.0, 1: 0.5}, f"added data, got {got}")
    expect(got.user_attrs == {"src": "import"}, "added user attrs")


def check_get_trials_and_poll(make: MakeStorage) -> None:
    s = make()
    sid = s.create_study("a", ["minimize"])
    ids = [s.create_trial(sid).trial_id for _ in range(4)]
    s.finish_trial(ids[0], TrialState.COMPLETE, [1.0])
    s.finish_trial(ids[1], TrialState.FAIL, None)
    everything = s.get_trials(sid)
    expect([t.number for t in everything] == [0, 1, 2, 3], "get_trials returns all, by number")
    done = s.get_trials(sid, states=[TrialState.COMPLETE, TrialState.FAIL])
    expect([t.number for t in done] == [0, 1], f"state filter, got {[t.number for t in done]}")
    first = s.poll(sid, 0)
    expect(sorted(t.number for t in first.trials) == [0, 1, 2, 3], "poll(0) returns every trial")
    s.finish_trial(ids[2], TrialState.PRUNED, None)
    second = s.poll(sid, first.cursor)
    expect(sorted(t.number for t in second.trials) == [2, 3],
           f"poll(cursor) returns only newly finished + unfinished, got {[t.number for t in second.trials]}")
    expect(second.cursor > first.cursor, "the cursor advances when a trial finishes")
    third = s.poll(sid, second.cursor)
    expect([t.number for t in third.trials] == [3], "nothing new: only the unfinished trial")


def check_threads_unique_numbers(make: MakeStorage) -> None:
    s = make()
    sid = s.create_study("a", ["minimize"])
    numbers: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(15):
            t = s.create_trial(sid)
            s.finish_trial(t.trial_id, TrialState.COMPLETE, [float(t.number)])
            with lock:
                numbers.append(t.number)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    expect(sorted(numbers) == list(range(60)), f"60 unique dense numbers from 4 threads, got {sorted(numbers)}")
    expect(len(s.get_trials(sid, states=[TrialState.COMPLETE])) == 60, "all 60 trials stored")


def check_unknown_ids(make: MakeStorage) -> None:
    s = make()
    for call in (lambda: s.get_study("nope"), lambda: s.delete_study(12345), lambda: s.create_trial(12345)):
        try:
            call()
            raise AssertionError("an unknown study must raise StudyNotFound")
        except StudyNotFound:
            pass


def check_fail_stale_trials(make: MakeStorage) -> None:
    import time

    s = make()
    sid = s.create_study("a", ["minimize"])
    alive, dead, done = (s.create_trial(sid) for _ in range(3))
    s.set_params(dead.trial_id, {"x": (0.5, Float(0, 1))})
    s.finish_trial(done.trial_id, TrialState.COMPLETE, [1.0])
    time.sleep(0.05)
    cut = time.time()
    time.sleep(0.05)
    s.heartbeat(alive.trial_id)
    failed = s.fail_stale_trials(sid, cut, "no heartbeat")
    expect([t.number for t in failed] == [dead.number], f"only the silent trial fails, got {failed}")
    expect(failed[0].state == TrialState.FAIL and failed[0].params == {"x": 0.5}, f"failed trial {failed[0]}")
    expect(s.get_trial(dead.trial_id).system_attrs.get("fail_reason") == "no heartbeat", "the reason is stored")
    expect(s.fail_stale_trials(sid, cut, "again") == [], "a trial is failed by exactly one call")
    expect(s.get_trial(alive.trial_id).state == TrialState.RUNNING, "a beating trial stays RUNNING")
    expect(s.get_trial(done.trial_id).state == TrialState.COMPLETE, "finished trials are untouched")


CHECKS = [
    check_study_lifecycle,
    check_trial_numbers_dense,
    check_params_round_trip,
    check_reports_and_attrs,
    check_finish_is_final,
    check_enqueued_run_first,
    check_create_trial_with_system_attrs,
    check_add_finished_trial,
    check_get_trials_and_poll,
    check_threads_unique_numbers,
    check_unknown_ids,
    check_fail_stale_trials,
]
