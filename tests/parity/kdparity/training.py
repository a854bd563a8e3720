"""Training parity: replays a KdTools run step by step in PyTorch and compares every loss term, the final weights,
the weight updates and the buffers.

The run folder (written by the C# side) holds run.json (method, options, architectures, optimizer settings, each
network's input statistics, and per step its stage, epoch, learning rate and KdTools' loss terms) and
tensors.safetensors (initial states after the method's Initialize, every step's exact inputs (the student's), labels,
sample indices and the method's random draws, final states, the training split's labels). PyTorch starts from the
same weights, takes the same batches and updates with torch.optim.SGD; what it can derive (the teacher's inputs, OFD's
margins) it derives itself.
"""
import json
import os

import torch
import torch.nn.functional as F

from .architectures import ARCHITECTURES
from .architectures.exit_heads import EXIT_HEADS, MultiExit
from .errors import TOLERANCES, Worst, relative
from .methods import METHODS
from .methods.base import Output, Setup, Step
from .models import DTYPES
from .safetensors_format import load_file

MAIN_STAGE = "train"
GROUPS = ["loss terms", "weights", "updates", "buffers"]
EXTRAS_PREFIX = "modules."


def _under(tensors, prefix, strip=""):
    return {k[len(prefix) + len(strip):]: v for k, v in tensors.items() if k.startswith(prefix + strip)}


def _output(result):
    return Output(result[0], result[1], result[2] if len(result) == 3 else {})


def _shapes(network, probe):
    was_training = network.training
    network.eval()
    with torch.no_grad():
        output = _output(network(probe))
    network.train(was_training)
    return {name: tuple(value.shape) for name, value in output.features.items()}, list(output.exits)


class Replay:
    """The PyTorch side of one exported run."""

    def __init__(self, folder, dtype):
        with open(os.path.join(folder, "run.json"), encoding="utf-8") as stream:
            self.run = json.load(stream)
        self.exported, _ = load_file(os.path.join(folder, "tensors.safetensors"))
        self.dtype = dtype
        self.tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in self.exported.items()}

    def missing(self):
        """What the parity layer lacks to replay this run, as notes."""
        notes = [f"no PyTorch definition of architecture '{a}': add it to tests/parity/kdparity/architectures"
                 for a in [self.run["student"], self.run["teacher"]] if a is not None and a not in ARCHITECTURES]
        if self.run["method"] not in METHODS:
            notes.append(f"no PyTorch formulation of method '{self.run['method']}': add it to tests/parity/kdparity/methods")
        return notes

    def build(self):
        run, tensors = self.run, self.tensors
        self.student = ARCHITECTURES[run["student"]](run["classes"]).to(self.dtype)
        self.student.load_state_dict(_under(tensors, "initial/student/"), strict=True)
        self.teacher = None
        if run["teacher"] is not None:
            self.teacher = ARCHITECTURES[run["teacher"]](run["classes"])
            if run["teacher_heads"] is not None:
                heads = run["teacher_heads"]
                self.teacher = MultiExit(self.teacher, EXIT_HEADS[heads["kind"]](heads["configuration"]))
            self.teacher = self.teacher.to(self.dtype).eval()
            self.teacher.load_state_dict(_under(tensors, "initial/teacher/"), strict=True)
        probe = tensors["step0/inputs"][:2]
        student_shapes, _ = _shapes(self.student, probe)
        teacher_shapes, teacher_exits = _shapes(self.teacher, probe) if self.teacher is not None else (None, [])
        teacher_norm = None if self.teacher is None else self.teacher.preact_norm
        setup = Setup(student_shapes, teacher_shapes, run["classes"], run["samples"], teacher_exits, teacher_norm,
                      tensors["dataset/labels"])
        self.method = METHODS[run["method"]](run["options"], setup)
        self.extras = self.method.extras
        initial_extras = _under(tensors, "initial/extras/", EXTRAS_PREFIX)
        if self.extras is not None:
            self.extras.to(self.dtype)
            self._load_extras(initial_extras)
        elif initial_extras:
            raise RuntimeError(f"KdTools' {run['method']} has extra modules ({', '.join(initial_extras)}) that the PyTorch formulation lacks")

    def _load_extras(self, state):
        """KdTools' initial extras, strictly, except the buffers the formulation derives itself (method.derived): those
        keep the replay's own values, and the final comparison checks them against KdTools'."""
        derived = self.method.derived
        missing, unexpected = self.extras.load_state_dict({k: v for k, v in state.items() if k not in derived}, strict=False)
        if unexpected or set(missing) != set(derived):
            raise RuntimeError(f"the {self.run['method']} formulation's modules differ from KdTools': missing {sorted(set(missing) - set(derived))}, "
                               f"unexpected {sorted(unexpected)}, derived but not KdTools' {sorted(set(derived) - set(state))}")

    def step_all(self, term_errors):
        run, stages = self.run, self.method.pre_stages()
        optimizer, position = None, None
        for index, step in enumerate(run["steps"]):
            stage, main = step["stage"], step["stage"] == MAIN_STAGE
            trains_student = main or stages[stage].trains_student
            if position is None or stage != position[0]:
                optimizer = torch.optim.SGD(self._parameters(stages, stage, trains_student), lr=step["learning_rate"],
                                            momentum=run["momentum"], weight_decay=run["weight_decay"], nesterov=run["nesterov"])
            if (stage, step["epoch"]) != position:
                # The engine's order at every epoch start.
                self.student.train(trains_student)
                if self.extras is not None:
                    self.extras.train()
                self.method.prepare_epoch(stage)
                position = (stage, step["epoch"])
            for group in optimizer.param_groups:
                group["lr"] = step["learning_rate"]
            terms = self._losses(index, step, stages, main, trains_student)
            optimizer.zero_grad(set_to_none=True)
            sum(terms.values()).backward()
            optimizer.step()
            expected = dict(step["terms"])
            floor = TOLERANCES[run["dtype"]]["term_scale"] * sum(abs(value) for value in expected.values())
            for name in set(expected) | set(terms):
                error = float("inf")
                if name in terms and name in expected:
                    difference = abs(terms[name].item() - expected[name])
                    scale = max(abs(expected[name]), floor)
                    error = difference / scale if scale > 0 else difference
                term_errors[f"{stage}:{name}"] = max(term_errors.get(f"{stage}:{name}", 0.0), error)

    def _parameters(self, stages, stage, trains_student):
        if stage == MAIN_STAGE:
            own = list(self.extras.parameters()) if self.extras is not None else []
        else:
            own = list(stages[stage].parameters())
        return own + (list(self.student.parameters()) if trains_student else [])

    def _losses(self, index, step, stages, main, trains_student):
        tensors, prefix = self.tensors, f"step{index}/"
        inputs, labels = tensors[prefix + "inputs"], tensors[prefix + "labels"]
        teacher = None
        if self.teacher is not None:
            # Train mode is the main stage's; a pre-stage learns on the frozen teacher.
            self.teacher.train(self.method.teacher_trains and main)
            with torch.no_grad():
                teacher = _output(self.teacher(self._teacher_inputs(inputs)))
        student = _output(self.student(inputs)) if trains_student else None
        context = Step(inputs, labels, tensors[prefix + "indices"], student, teacher, step["epoch"], step["epochs"],
                       _under(tensors, prefix + "draw/"))
        terms = {}
        if main and self.method.task_weight != 0:
            terms["ce"] = self.method.task_weight * F.cross_entropy(student.logits, labels)
        (self.method.losses if main else stages[step["stage"]].losses)(context, terms)
        return terms

    def _teacher_inputs(self, inputs):
        """The student's inputs normalised with the teacher's statistics: the same augmented images, x·std + mean in
        pixel units, then (· − mean_t) / std_t."""
        statistics = self.run["normalization"]
        student, teacher = statistics["student"], statistics["teacher"]
        if student == teacher:
            return inputs

        def channels(values):  # KdTools keeps the statistics in float32
            return torch.tensor(values, dtype=torch.float32).double().view(1, -1, 1, 1)
        pixels = inputs.double() * channels(student["std"]) + channels(student["mean"])
        return ((pixels - channels(teacher["mean"])) / channels(teacher["std"])).to(inputs.dtype)

    def final_errors(self):
        """Worst parameter, update and buffer errors of the student, teacher and extras after the last step."""
        weights, updates, buffers = Worst(), Worst(), Worst()
        modules = [("student", self.student), ("teacher", self.teacher), ("extras", self.extras)]
        changes = []
        for role, module in modules:
            if module is None:
                continue
            strip = EXTRAS_PREFIX if role == "extras" else ""
            final = _under(self.tensors, f"final/{role}/", strip)
            initial = _under(self.tensors, f"initial/{role}/", strip)
            parameters = dict(module.named_parameters())
            for key, value in module.state_dict().items():
                name = f"{role}.{key}"
                if key not in parameters:
                    buffers.add(name, relative(value, final[key]))
                    continue
                weights.add(name, relative(value, final[key]))
                changes.append((name, value.detach().double() - initial[key].double(), final[key].double() - initial[key].double()))
        largest = max((torch_change.abs().max().item() for _, torch_change, _ in changes if torch_change.numel()), default=0.0)
        for name, torch_change, kdtools_change in changes:
            if torch_change.numel() == 0:
                continue
            # A tensor that barely moves is measured against a hundredth of the largest update of the run.
            scale = max(torch_change.abs().max().item(), 0.01 * largest)
            updates.add(name, (kdtools_change - torch_change).abs().max().item() / scale if scale > 0 else 0.0)
        return weights, updates, buffers


def _measure(folder, dtype):
    """Replays the run in `dtype`; the worst error and where, per group, of KdTools against that replay."""
    replay = Replay(folder, dtype)
    replay.build()
    term_errors = {}
    replay.step_all(term_errors)
    errors, worst = {}, {}
    terms = Worst()
    for name, error in term_errors.items():
        terms.add(name, error)
    for group, result in zip(GROUPS, [terms, *replay.final_errors()]):
        errors[group], worst[group] = result.error, result.name
    return errors, worst


def compare(folder):
    """One table row; a formulation that fails to build or run gives a failing row that says why."""
    try:
        return _compare(folder)
    except Exception as error:  # noqa: BLE001 - any failure of the replay is this row's result
        with open(os.path.join(folder, "run.json"), encoding="utf-8") as stream:
            run = json.load(stream)
        return {"kind": "training", "name": run["name"], "dtype": run["dtype"], "errors": {}, "worst": {}, "limits": {},
                "steps": len(run["steps"]), "passed": False, "notes": [f"the PyTorch replay failed: {type(error).__name__}: {error}"]}


def _compare(folder):
    """One table row. A float64 run is measured against PyTorch's float64 replay. A float32 run is measured against
    PyTorch's float32 replay and against the exact (float64) replay of the same start, and passes when it agrees with
    either. Some runs amplify float32 rounding beyond the tolerance: a strongly weighted loss on an untrained teacher
    (AT's β = 1000, FitNet's hint stage then β = 100) moves weights by up to 70 % a step, and in exact arithmetic a
    1e-7 relative change of the initial weights then moves the final ones by 3e-3 (KD: 7e-7). There two float32
    engines agree with each other or with the exact result, not necessarily both, while a wrong formula or update
    disagrees with both (and fails the float64 run at 1e-13)."""
    probe = Replay(folder, torch.float64)
    run = probe.run
    tolerance = TOLERANCES[run["dtype"]]
    limits = {"loss terms": tolerance["terms"], "weights": tolerance["weights"], "updates": tolerance["updates"],
              "buffers": tolerance["weights"]}
    row = {"kind": "training", "name": run["name"], "dtype": run["dtype"], "errors": {}, "worst": {}, "notes": probe.missing(),
           "steps": len(run["steps"]), "limits": limits}
    exported_dtype = DTYPES[run["dtype"]]
    wrong_dtype = sorted(k for k, v in probe.exported.items() if v.is_floating_point() and v.dtype != exported_dtype)
    if wrong_dtype:
        row["notes"].append(f"KdTools kept {len(wrong_dtype)} tensor(s) out of {run['dtype']}, e.g. {wrong_dtype[0]}")
    if row["notes"]:
        row["passed"] = False
        return row
    references = {f"PyTorch {run['dtype']}": exported_dtype}
    if exported_dtype != torch.float64:
        references["exact"] = torch.float64
    measured = {name: _measure(folder, dtype) for name, dtype in references.items()}

    def excess(errors):
        return max(errors[group] / limit for group, limit in limits.items())

    best = min(measured, key=lambda name: excess(measured[name][0]))
    row["reference"] = best
    row["errors"], row["worst"] = measured[best]
    row["others"] = {name: errors for name, (errors, _) in measured.items() if name != best}
    row["passed"] = excess(row["errors"]) <= 1
    return row
