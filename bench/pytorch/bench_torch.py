#!/usr/bin/env python3
"""PyTorch side of the KdTools speed comparison: CIFAR ResNet training-step and teacher-inference times.

Times, per student/teacher pair, the median and the minimum milliseconds (printed as <key>_ms and <key>_min_ms) of
  ce_step          student in train mode: forward, cross-entropy, backward, SGD step;
  kd_step          teacher forward in eval mode under no_grad, student forward,
                   loss = 0.1 * CE + 0.9 * T^2 * KL(batchmean) at T = 4, backward, SGD step;
  teacher_eval     teacher forward in eval mode under no_grad;
then, for resnet20 distilled from resnet56, one distillation step per method (KD, AT, FitNet, PKT, RKD, DKD, DIST) with
KdTools' default loss weights (step, and ratio_to_kd against the KD step), and the cost of training DIH's
intermediate heads on a frozen resnet56 against one CE training step of resnet56 (head_finetune), and the
segmentation steps (segmentation_step: a pspnet_resnet18_w8 CE step, an SKD step without and with its critic, at 64 and
512 px), and (part students) each lightweight student's CE training step and eval-mode inference (student_step),
with RepDistiller's own model definitions when --student-models names its models folder, else the parity tests'
definitions of the same networks (tests/parity/kdparity). --skd-parity prints the losses of two SKD steps of deterministically filled networks instead.
Prints one JSON line per measurement. Random inputs with a fixed seed; needs only PyTorch (1.13 or newer).
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 100
STAGE_WIDTHS = (16, 32, 64)

# Trainable parameter counts of the reference CIFAR-100 ResNets (RepDistiller models/resnet.py).
EXPECTED_PARAMETERS = {"resnet8": 83_892, "resnet20": 278_324, "resnet56": 861_620, "resnet110": 1_736_564}

PAIRS = (("resnet8", "resnet56"), ("resnet20", "resnet56"), ("resnet20", "resnet110"))

CE_WEIGHT, KD_WEIGHT, TEMPERATURE = 0.1, 0.9, 4.0

METHOD_STUDENT, METHOD_TEACHER = "resnet20", "resnet56"
METHODS = ("KD", "AT", "FitNet", "PKT", "RKD", "DKD", "DIST", "CRD", "MHKD")

# KdTools' defaults for the feature methods (RepDistiller's training script): loss = CE + beta * the method's term.
AT_BETA, AT_POWER = 1000.0, 2
FITNET_BETA, FITNET_HINT = 100.0, "stage2"  # the middle of three stages
PKT_BETA, PKT_EPS = 30000.0, 1e-7
RKD_BETA, RKD_DISTANCE_WEIGHT, RKD_ANGLE_WEIGHT = 1.0, 25.0, 50.0
# The logit methods' defaults: DKD as mdistiller (CE 1, alpha 1, beta 8, T 4; past its warm-up), DIST as the authors'
# CIFAR config (CE 1, weight 2, beta = gamma = 1, tau 4).
DKD_ALPHA, DKD_BETA, DKD_TEMPERATURE = 1.0, 8.0, 4.0
DIST_WEIGHT, DIST_BETA, DIST_GAMMA, DIST_TAU = 2.0, 1.0, 1.0, 4.0

# CRD (Tian et al. 2020, RepDistiller's defaults): 128-d normalised embeddings, 16,384 negatives drawn from the other
# classes of a 50,000-sample training set, tau 0.07, memory momentum 0.5; loss = CE + 0.8 * (NCE_s + NCE_t).
CRD_BETA, CRD_DIM, CRD_NEGATIVES, CRD_TAU, CRD_MOMENTUM, CRD_EPS = 0.8, 128, 16384, 0.07, 0.5, 1e-7
TRAINING_SAMPLES = 50_000
# MHKD (Wang et al. 2020, as DIH's baseline): a head after every stage but the last on both networks (two unpadded
# 3x3 conv-BN-ReLU of 256 channels, global average pool, FC-ReLU-FC); the teacher's heads frozen; loss =
# alpha T^2 KL + (1 - alpha) CE on the final logits + 0.5 * the same pair summed over the heads; T 5, alpha 0.1.
MHKD_T, MHKD_ALPHA, MHKD_HEAD_WEIGHT, MHKD_WIDTH = 5.0, 0.1, 0.5, 256

HEAD_STAGES = ("stage1", "stage2", "stage3")
HEAD_LEARNING_RATE = 0.1  # DIH's head training rate, KdTools' HeadFineTuning default


def conv3x3(in_channels, out_channels, stride=1, dilation=1):
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)


class BasicBlock(nn.Module):
    """The residual block; the SKD code's ResNet-18 dilates (and pads) both 3x3 convolutions by the same rate."""

    def __init__(self, in_channels, out_channels, stride, dilation=1):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride, dilation)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels, dilation=dilation)
        self.bn2 = nn.BatchNorm2d(out_channels)
        # A 1x1 projection only where the residual's shape changes, as in the reference models.
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + residual)


class CifarResNet(nn.Module):
    """3 stages of (depth - 2) / 6 BasicBlocks at 16/32/64 channels, 32x32 input, global average pool, linear head."""

    def __init__(self, depth, num_classes=NUM_CLASSES):
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError(f"depth {depth} is not 6n+2")
        blocks_per_stage = (depth - 2) // 6
        self.conv1 = conv3x3(3, STAGE_WIDTHS[0])
        self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0])
        stages, in_channels = [], STAGE_WIDTHS[0]
        for index, width in enumerate(STAGE_WIDTHS):
            blocks = []
            for block in range(blocks_per_stage):
                stride = 2 if index > 0 and block == 0 else 1
                blocks.append(BasicBlock(in_channels, width, stride))
                in_channels = width
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(in_channels, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.forward_features(x)[0]

    def forward_features(self, x):
        """Logits and the features KdTools' methods read: stage1..3 (post-activation) and the pooled embedding."""
        x = F.relu(self.bn1(self.conv1(x)))
        features = {}
        for index, stage in enumerate((self.layer1, self.layer2, self.layer3), start=1):
            x = features[f"stage{index}"] = stage(x)
        embedding = features["embedding"] = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(embedding), features


def build(name, num_classes=NUM_CLASSES):
    return CifarResNet(int(name.removeprefix("resnet")), num_classes)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def check_parameter_counts():
    for name, expected in EXPECTED_PARAMETERS.items():
        actual = parameter_count(build(name))
        print(f"# {name}: {actual:,} parameters")
        assert actual == expected, f"{name} has {actual:,} parameters, the reference has {expected:,}"


def make_optimizer(model):
    return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)


def hinton_kd_loss(student_logits, teacher_logits, labels):
    soft = F.kl_div(F.log_softmax(student_logits / TEMPERATURE, dim=1), F.softmax(teacher_logits / TEMPERATURE, dim=1),
                    reduction="batchmean")
    return CE_WEIGHT * F.cross_entropy(student_logits, labels) + KD_WEIGHT * TEMPERATURE ** 2 * soft


def attention_map(feature):
    """normalize(mean_c(f^p)) flattened per sample (L2, eps 1e-12)."""
    return F.normalize(feature.pow(AT_POWER).mean(1).flatten(1), p=2, dim=1, eps=1e-12)


def attention_transfer_loss(student_features, teacher_features):
    """Sum over the stage pairs of mean((a_s - a_t)^2); the taller map is average-pooled to the other's height."""
    total = 0.0
    for name in ("stage1", "stage2", "stage3"):
        s, t = student_features[name], teacher_features[name]
        if s.shape[2] > t.shape[2]:
            s = F.adaptive_avg_pool2d(s, t.shape[2])
        elif t.shape[2] > s.shape[2]:
            t = F.adaptive_avg_pool2d(t, s.shape[2])
        total = total + (attention_map(s) - attention_map(t)).pow(2).mean()
    return total


def normalised_distances(e):
    """Pairwise distances (squared clamped at 1e-12), zero diagonal, divided by the mean of the positive ones."""
    squared_norms = e.pow(2).sum(1)
    squared = squared_norms.unsqueeze(1) + squared_norms.unsqueeze(0) - 2 * e @ e.t()
    diagonal = torch.eye(e.shape[0], dtype=torch.bool, device=e.device)
    distances = squared.clamp(min=1e-12).sqrt().masked_fill(diagonal, 0.0)
    return distances / distances[distances > 0].mean()


def angles(e):
    directions = F.normalize(e.unsqueeze(0) - e.unsqueeze(1), p=2, dim=2)
    return torch.bmm(directions, directions.transpose(1, 2)).flatten()


def rkd_loss(student_embedding, teacher_embedding):
    student_embedding, teacher_embedding = student_embedding.flatten(1), teacher_embedding.flatten(1)
    with torch.no_grad():
        teacher_distances, teacher_angles = normalised_distances(teacher_embedding), angles(teacher_embedding)
    distance = F.smooth_l1_loss(normalised_distances(student_embedding), teacher_distances)
    angle = F.smooth_l1_loss(angles(student_embedding), teacher_angles)
    return RKD_DISTANCE_WEIGHT * distance + RKD_ANGLE_WEIGHT * angle


def conditional_probabilities(x):
    """Cosine similarities mapped to [0, 1], each row normalised to sum 1."""
    unit = x / (x.pow(2).sum(1, keepdim=True).sqrt() + PKT_EPS)
    unit = unit.masked_fill(torch.isnan(unit), 0.0)
    similarity = (unit @ unit.t() + 1.0) / 2.0
    return similarity / similarity.sum(1, keepdim=True)


def pkt_loss(student_embedding, teacher_embedding):
    student = conditional_probabilities(student_embedding.flatten(1))
    with torch.no_grad():
        teacher = conditional_probabilities(teacher_embedding.flatten(1))
    return (teacher * torch.log((teacher + PKT_EPS) / (student + PKT_EPS))).mean()


def dkd_loss(student_logits, teacher_logits, labels):
    """alpha * TCKD + beta * NCKD (mdistiller's dkd_loss), both T^2/B-scaled."""
    t, batch = DKD_TEMPERATURE, student_logits.shape[0]
    gt = F.one_hot(labels, student_logits.shape[1]).to(student_logits.dtype)
    p_s, p_t = F.softmax(student_logits / t, dim=1), F.softmax(teacher_logits / t, dim=1)
    binary_s = torch.stack([(p_s * gt).sum(1), (p_s * (1 - gt)).sum(1)], 1)
    binary_t = torch.stack([(p_t * gt).sum(1), (p_t * (1 - gt)).sum(1)], 1)
    tckd = F.kl_div(binary_s.log(), binary_t, reduction="sum") * t ** 2 / batch
    nckd = F.kl_div(F.log_softmax(student_logits / t - 1000.0 * gt, dim=1), F.softmax(teacher_logits / t - 1000.0 * gt, dim=1),
                    reduction="sum") * t ** 2 / batch
    return DKD_ALPHA * tckd + DKD_BETA * nckd


def mean_pearson(a, b, eps=1e-8):
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return ((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)).mean()


def dist_loss(student_logits, teacher_logits):
    """beta * inter + gamma * intra relations of softmax(z / tau), each tau^2-scaled (the DIST authors' dist_kd.py)."""
    y_s, y_t = F.softmax(student_logits / DIST_TAU, dim=1), F.softmax(teacher_logits / DIST_TAU, dim=1)
    inter = DIST_TAU ** 2 * (1 - mean_pearson(y_s, y_t))
    intra = DIST_TAU ** 2 * (1 - mean_pearson(y_s.t(), y_t.t()))
    return DIST_BETA * inter + DIST_GAMMA * intra


class EmbedHead(nn.Module):
    """CRD's embedding head: a linear map of the flattened feature, L2-normalised per row."""

    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.linear = nn.Linear(dim_in, dim_out)

    def forward(self, x):
        return F.normalize(self.linear(x.flatten(1)), p=2, dim=1)


class CrdModule(nn.Module):
    """CRD's trainable heads, its momentum memory (one bank per side, [N, D], rows uniform in +-1/sqrt(D/3)) and its
    fixed normalisers Z, estimated on the first batch as mean(exp scores) * N."""

    def __init__(self, student_dim, teacher_dim, labels):
        super().__init__()
        self.embed_s, self.embed_t = EmbedHead(student_dim, CRD_DIM), EmbedHead(teacher_dim, CRD_DIM)
        bound = 1.0 / (CRD_DIM / 3) ** 0.5
        self.register_buffer("memory_s", torch.rand(TRAINING_SAMPLES, CRD_DIM) * 2 * bound - bound)
        self.register_buffer("memory_t", torch.rand(TRAINING_SAMPLES, CRD_DIM) * 2 * bound - bound)
        self.z_s = self.z_t = None
        # Negatives of each class: every sample of another class (the 'exact' mode's pool), drawn with replacement.
        self.labels = labels
        self.negatives = [torch.nonzero(labels != c).flatten() for c in range(int(labels.max()) + 1)]

    def draw(self, indices):
        """[B, K + 1]: the sample itself, then K samples of other classes."""
        rows = []
        for index in indices.tolist():
            pool = self.negatives[int(self.labels[index])]
            rows.append(pool[torch.randint(0, len(pool), (CRD_NEGATIVES,))])
        return torch.cat([indices.unsqueeze(1), torch.stack(rows)], 1)

    @staticmethod
    def nce(scores):
        """-(sum log P(D=1|pos) + sum log P(D=0|neg)) / B with uniform noise 1/N (the paper's Eq. 18)."""
        noise = CRD_NEGATIVES / TRAINING_SAMPLES
        positive = torch.log(scores[:, 0] / (scores[:, 0] + noise + CRD_EPS))
        negative = torch.log(noise / (scores[:, 1:] + noise + CRD_EPS))
        return -(positive.sum() + negative.sum()) / scores.shape[0]

    def loss(self, student_embedding, teacher_embedding, indices):
        v_s, v_t = self.embed_s(student_embedding), self.embed_t(teacher_embedding)
        contrast = self.draw(indices)
        # Each side's embedding scored against the other side's memory rows: [B, K + 1].
        scores_s = torch.exp(torch.bmm(self.memory_t[contrast], v_s.unsqueeze(2)).squeeze(2) / CRD_TAU)
        scores_t = torch.exp(torch.bmm(self.memory_s[contrast], v_t.unsqueeze(2)).squeeze(2) / CRD_TAU)
        if self.z_s is None:
            self.z_s = scores_s.detach().mean().item() * TRAINING_SAMPLES
            self.z_t = scores_t.detach().mean().item() * TRAINING_SAMPLES
        loss = self.nce(scores_s / self.z_s) + self.nce(scores_t / self.z_t)
        with torch.no_grad():  # the momentum update of the batch's own rows, renormalised
            for memory, v in ((self.memory_s, v_s), (self.memory_t, v_t)):
                rows = memory[indices] * CRD_MOMENTUM + v.detach() * (1 - CRD_MOMENTUM)
                memory.index_copy_(0, indices, F.normalize(rows, p=2, dim=1))
        return loss


class MhkdHead(nn.Module):
    """MHKD's head on a stage output: two bias-free 3x3 conv-BN-ReLU (unpadded while the map is at least 3 wide),
    global average pooling, FC-ReLU-FC."""

    def __init__(self, shape, classes):
        super().__init__()
        side, layers, channels = min(shape[2], shape[3]), [], shape[1]
        for _ in range(2):
            unpadded = side >= 3
            side -= 2 if unpadded else 0
            layers += [nn.Conv2d(channels, MHKD_WIDTH, 3, padding=0 if unpadded else 1, bias=False),
                       nn.BatchNorm2d(MHKD_WIDTH), nn.ReLU()]
            channels = MHKD_WIDTH
        self.body = nn.Sequential(*layers)
        self.fc1, self.fc2 = nn.Linear(MHKD_WIDTH, MHKD_WIDTH), nn.Linear(MHKD_WIDTH, classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(self.body(x).mean((2, 3)))))


def kd_term(student_logits, teacher_logits, temperature):
    return F.kl_div(F.log_softmax(student_logits / temperature, dim=1), F.softmax(teacher_logits / temperature, dim=1),
                    reduction="batchmean") * temperature ** 2


class MhkdModule(nn.Module):
    STAGES = ("stage1", "stage2")

    def __init__(self, student_shapes, teacher_shapes, classes):
        super().__init__()
        self.student_heads = nn.ModuleList(MhkdHead(student_shapes[s], classes) for s in self.STAGES)
        self.teacher_heads = nn.ModuleList(MhkdHead(teacher_shapes[s], classes) for s in self.STAGES)
        self.teacher_heads.eval().requires_grad_(False)  # trained in MHKD's pre-stage, frozen in the main stage

    def train(self, mode=True):
        super().train(mode)
        self.teacher_heads.eval()
        return self

    def loss(self, s, t, labels):
        a = MHKD_ALPHA
        total = a * kd_term(s[0], t[0], MHKD_T) + (1 - a) * F.cross_entropy(s[0], labels)
        head_ce, head_kd = 0.0, 0.0
        for name, student_head, teacher_head in zip(self.STAGES, self.student_heads, self.teacher_heads):
            logits = student_head(s[1][name])
            with torch.no_grad():
                teacher_logits = teacher_head(t[1][name])
            head_ce = head_ce + F.cross_entropy(logits, labels)
            head_kd = head_kd + kd_term(logits, teacher_logits, MHKD_T)
        return total + MHKD_HEAD_WEIGHT * ((1 - a) * head_ce + a * head_kd)


class ConvRegressor(nn.Module):
    """FitNet's regressor onto the teacher's hint shape: 3x3 stride-2 conv for a map twice as large, 4x4 stride-2
    transposed conv for one half as large, else a valid conv shrinking it exactly (1x1 for equal sizes); BN, ReLU."""

    def __init__(self, student_shape, teacher_shape):
        super().__init__()
        (_, sc, sh, sw), (_, tc, th, tw) = student_shape, teacher_shape
        if sh == 2 * th:
            self.conv = nn.Conv2d(sc, tc, 3, stride=2, padding=1)
        elif sh * 2 == th:
            self.conv = nn.ConvTranspose2d(sc, tc, 4, stride=2, padding=1)
        else:
            self.conv = nn.Conv2d(sc, tc, (1 + sh - th, 1 + sw - tw))
        self.bn = nn.BatchNorm2d(tc)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def make_method(name, student_shapes, teacher_shapes, context=None):
    """(extra trainable module or None, loss(student_out, teacher_out, labels)); an out is (logits, features).
    context: the training set's labels and the batch's dataset indices (CRD's memory and negatives)."""
    if name == "CRD":
        crd = CrdModule(student_shapes["embedding"][1], teacher_shapes["embedding"][1], context["training_labels"])
        indices = context["indices"]
        return crd, lambda s, t, y: (F.cross_entropy(s[0], y)
                                     + CRD_BETA * crd.loss(s[1]["embedding"], t[1]["embedding"], indices))
    if name == "MHKD":
        mhkd = MhkdModule(student_shapes, teacher_shapes, context["classes"])
        return mhkd, lambda s, t, y: mhkd.loss(s, t, y)
    if name == "KD":
        return None, lambda s, t, y: hinton_kd_loss(s[0], t[0], y)
    if name == "AT":
        return None, lambda s, t, y: F.cross_entropy(s[0], y) + AT_BETA * attention_transfer_loss(s[1], t[1])
    if name == "PKT":
        return None, lambda s, t, y: F.cross_entropy(s[0], y) + PKT_BETA * pkt_loss(s[1]["embedding"], t[1]["embedding"])
    if name == "RKD":
        return None, lambda s, t, y: F.cross_entropy(s[0], y) + RKD_BETA * rkd_loss(s[1]["embedding"], t[1]["embedding"])
    if name == "DKD":
        return None, lambda s, t, y: F.cross_entropy(s[0], y) + dkd_loss(s[0], t[0], y)
    if name == "DIST":
        return None, lambda s, t, y: F.cross_entropy(s[0], y) + DIST_WEIGHT * dist_loss(s[0], t[0])
    if name == "FitNet":
        regressor = ConvRegressor(student_shapes[FITNET_HINT], teacher_shapes[FITNET_HINT])
        return regressor, lambda s, t, y: (F.cross_entropy(s[0], y)
                                           + FITNET_BETA * F.mse_loss(regressor(s[1][FITNET_HINT]), t[1][FITNET_HINT]))
    raise ValueError(f"no PyTorch reference for method {name}")


def probe_shapes(model, images):
    """Feature shapes from a 2-sample eval forward, as KdTools' engine probes before a method initialises."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        _, features = model.forward_features(images[:2])
    model.train(was_training)
    return {name: tuple(f.shape) for name, f in features.items()}


def timing_ms(step, warmup, iters):
    """(median, minimum, median CPU) milliseconds of iters calls after warmup untimed ones. On a shared machine the minimum is the
    steadier estimate of the work itself: other load only ever adds time."""
    for _ in range(warmup):
        step()
    times, cpu = [], []
    for _ in range(iters):
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        times.append((time.perf_counter() - start) * 1000.0)
        cpu.append((time.process_time() - cpu_start) * 1000.0)
    return statistics.median(times), min(times), statistics.median(cpu)


def add_ms(record, key, timing):
    """key_ms (median), key_min_ms, and key_cpu_ms: the median CPU time of the process (user + system, all threads),
    what a step cost in work rather than in waiting for a core (robust to other load)."""
    record[f"{key}_ms"], record[f"{key}_min_ms"] = round(timing[0], 2), round(timing[1], 2)
    if len(timing) > 2:
        record[f"{key}_cpu_ms"] = round(timing[2], 2)
    return record


def add_ratio(record, key, numerator, denominator):
    """Ratio of medians as key, of minima as key_min."""
    record[key], record[f"{key}_min"] = round(numerator[0] / denominator[0], 3), round(numerator[1] / denominator[1], 3)
    return record


def cross_entropy_step(model, optimizer, images, labels):
    """One CE training step of model on the batch: forward, cross-entropy, backward, SGD step."""
    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()
    return step


def bench_pair(student_name, teacher_name, args):
    torch.manual_seed(args.seed)
    student, teacher = build(student_name, args.classes), build(teacher_name, args.classes)
    teacher.eval()
    images = torch.randn(args.batch, 3, 32, 32)
    labels = torch.randint(0, args.classes, (args.batch,))

    student.train()
    optimizer = make_optimizer(student)

    ce_step = cross_entropy_step(student, optimizer, images, labels)

    def kd_step():
        with torch.no_grad():
            teacher_logits = teacher(images)
        optimizer.zero_grad(set_to_none=True)
        hinton_kd_loss(student(images), teacher_logits, labels).backward()
        optimizer.step()

    def teacher_eval():
        with torch.no_grad():
            teacher(images)

    record = {"framework": "pytorch", "torch": torch.__version__, "student": student_name, "teacher": teacher_name,
              "batch": args.batch, "threads": torch.get_num_threads()}
    add_ms(record, "ce_step", timing_ms(ce_step, args.warmup, args.iters))
    add_ms(record, "kd_step", timing_ms(kd_step, args.warmup, args.iters))
    return add_ms(record, "teacher_eval", timing_ms(teacher_eval, args.warmup, args.iters))


def calibrate_batch_norm(model, images, passes=20):
    """Batch-norm statistics of the bench batch for an untrained teacher, then eval mode: with the initial statistics
    an eval-mode resnet56 turns random inputs into stage-3 features in the thousands and VID-like losses diverge."""
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            model(images)
    return model.eval()


def bench_methods(args):
    torch.manual_seed(args.seed)
    teacher = build(METHOD_TEACHER, args.classes)
    images = torch.randn(args.batch, 3, 32, 32)
    # The batch is drawn from a virtual 50,000-sample training set with random labels (CRD's memory and negatives).
    training_labels = torch.randint(0, args.classes, (TRAINING_SAMPLES,))
    indices = torch.randperm(TRAINING_SAMPLES)[:args.batch]
    labels = training_labels[indices]
    context = {"training_labels": training_labels, "indices": indices, "classes": args.classes}
    calibrate_batch_norm(teacher, images)
    teacher_shapes = probe_shapes(teacher, images)
    kd = None
    for name in args.methods:  # KD first (method_list), so kd is set before any ratio
        torch.manual_seed(args.seed)
        student = build(METHOD_STUDENT, args.classes)
        extras, objective = make_method(name, probe_shapes(student, images), teacher_shapes, context)
        parameters = list(student.parameters())
        if extras is not None:
            extras.train()
            parameters += [p for p in extras.parameters() if p.requires_grad]
        student.train()
        optimizer = torch.optim.SGD(parameters, lr=0.05, momentum=0.9, weight_decay=5e-4)

        def method_step():
            with torch.no_grad():
                teacher_out = teacher.forward_features(images)
            optimizer.zero_grad(set_to_none=True)
            objective(student.forward_features(images), teacher_out, labels).backward()
            optimizer.step()

        step = timing_ms(method_step, args.method_warmup, args.method_iters)
        if name == "KD":
            kd = step
        record = {"framework": "pytorch", "torch": torch.__version__, "bench": "method_step", "method": name,
                  "student": METHOD_STUDENT, "teacher": METHOD_TEACHER, "threads": torch.get_num_threads()}
        yield add_ratio(add_ms(record, "step", step), "ratio_to_kd", step, kd)


class LinearStageHeads(nn.Module):
    """DIH's intermediate heads: a linear classifier on each stage's flattened output."""

    def __init__(self, shapes, num_classes):
        super().__init__()
        self.heads = nn.ModuleDict({name: nn.Linear(shapes[name][1] * shapes[name][2] * shapes[name][3], num_classes)
                                    for name in HEAD_STAGES})

    def forward(self, features):
        return [head(features[name].flatten(1)) for name, head in self.heads.items()]


def bench_head_finetune(args):
    """Heads trained with CE on a frozen backbone (requires_grad off, eval mode) vs one CE step of the whole network."""
    torch.manual_seed(args.seed)
    images = torch.randn(args.batch, 3, 32, 32)
    labels = torch.randint(0, args.classes, (args.batch,))
    backbone = build(METHOD_TEACHER, args.classes)
    heads = LinearStageHeads(probe_shapes(backbone, images), args.classes).train()
    backbone.eval().requires_grad_(False)
    head_optimizer = torch.optim.SGD(heads.parameters(), lr=HEAD_LEARNING_RATE, momentum=0.9, weight_decay=5e-4)

    def head_step():
        _, features = backbone.forward_features(images)
        head_optimizer.zero_grad(set_to_none=True)
        sum(F.cross_entropy(logits, labels) for logits in heads(features)).backward()
        head_optimizer.step()

    network = build(METHOD_TEACHER, args.classes).train()
    optimizer = make_optimizer(network)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(network(images), labels).backward()
        optimizer.step()

    head = timing_ms(head_step, args.method_warmup, args.method_iters)
    train = timing_ms(train_step, args.method_warmup, args.method_iters)
    record = {"framework": "pytorch", "torch": torch.__version__, "bench": "head_finetune", "teacher": METHOD_TEACHER,
              "threads": torch.get_num_threads()}
    return add_ratio(add_ms(add_ms(record, "head_step", head), "train_step", train), "ratio", head, train)


# Segmentation (KdTools' SegmentationStepBenchmark): pspnet_resnet18_w8 (student) and pspnet_resnet18_w16 (teacher), 6
# classes, batch 8 at 64 and 512 px, SKD's recipe SGD (lr 0.01, momentum 0.9, wd 1e-4), SKD (Liu et al.) at KdTools'
# defaults, which are the official code's: CE + 10 pixel-wise + 1 pair-wise (pool scale 0.5) + 0.1 adversarial; the
# critic (width 64, spectral norm, self-attention) trained by its own SGD (lr 4e-4, momentum 0.9, wd 1e-4) on
# 0.1 (mean D(S) - mean D(T)) + 0.1 * 10 * gradient penalty (WGAN-GP), after the student's step.
SEG_STUDENT_WIDTH, SEG_TEACHER_WIDTH, SEG_CLASSES, SEG_BATCH, SEG_SIDES = 8, 16, 6, 8, (64, 512)
SEG_LR, SEG_MOMENTUM, SEG_WEIGHT_DECAY, IGNORE_INDEX, PSP_DROPOUT = 0.01, 0.9, 1e-4, 255, 0.1
SKD_PIXEL_WEIGHT, SKD_PAIR_WEIGHT, SKD_POOL_SCALE, SKD_HOLISTIC_WEIGHT, SKD_GP_WEIGHT = 10.0, 1.0, 0.5, 0.1, 10.0
SKD_CRITIC_WIDTH, SKD_CRITIC_LR, SKD_CRITIC_MOMENTUM, SKD_CRITIC_WEIGHT_DECAY, SKD_CRITIC_MIN_SIDE = 64, 4e-4, 0.9, 1e-4, 64


class DilatedResNet18(nn.Module):
    """torchvision's ResNet-18 layout at output stride 8: 7x7 stride-2 stem, max-pool, layer3/layer4 at stride 1 with
    dilation 2/4 (layer4's first block keeps layer3's 2); every layer narrowed to `width` (64 in torchvision)."""

    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        plan = ((width, width, 1, 1, 1), (width, 2 * width, 2, 1, 1), (2 * width, 4 * width, 1, 1, 2), (4 * width, 8 * width, 1, 2, 4))
        for index, (in_channels, out_channels, stride, first_dilation, dilation) in enumerate(plan, start=1):
            setattr(self, f"layer{index}", nn.Sequential(BasicBlock(in_channels, out_channels, stride, first_dilation),
                                                         BasicBlock(out_channels, out_channels, 1, dilation)))
        self.channels = 8 * width

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class PyramidPooling(nn.Module):
    """PSPNet's pyramid pooling (bins 1, 2, 3, 6: pool, 1x1 conv to a quarter, BN, ReLU, upsampled with align_corners),
    concatenated with its input, then a 3x3 conv-BN-ReLU to a quarter of the channels."""

    def __init__(self, channels):
        super().__init__()
        reduced = channels // 4
        self.stages = nn.ModuleList(nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(channels, reduced, 1, bias=False),
                                                  nn.BatchNorm2d(reduced), nn.ReLU()) for b in (1, 2, 3, 6))
        self.bottleneck = nn.Sequential(nn.Conv2d(channels + 4 * reduced, reduced, 3, padding=1, bias=False),
                                        nn.BatchNorm2d(reduced), nn.ReLU())

    def forward(self, x):
        size = x.shape[2:]
        priors = [F.interpolate(stage(x), size, mode="bilinear", align_corners=True) for stage in self.stages]
        return self.bottleneck(torch.cat(priors + [x], 1))


class PspNet(nn.Module):
    """PSPNet as KdTools' pspnet_resnet18_w{width}: logits at 1/8 of the input and the final map (the pyramid module's
    output after Dropout2d(0.1), which the 1x1 classifier reads and SKD's pair-wise term compares)."""

    def __init__(self, width, classes):
        super().__init__()
        self.backbone = DilatedResNet18(width)
        self.pspmodule = PyramidPooling(self.backbone.channels)
        self.head = nn.Conv2d(self.backbone.channels // 4, classes, 1)

    def forward(self, x, dropout=True):
        final_map = F.dropout2d(self.pspmodule(self.backbone(x)), PSP_DROPOUT, training=self.training and dropout)
        return self.head(final_map), final_map


class SelfAttention(nn.Module):
    """SAGAN's self-attention: queries and keys of C/8 channels, values of C, gamma (from 0) times the attended values
    added to the input."""

    def __init__(self, channels):
        super().__init__()
        self.query_conv = nn.Conv2d(channels, channels // 8, 1)
        self.key_conv = nn.Conv2d(channels, channels // 8, 1)
        self.value_conv = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        queries = self.query_conv(x).flatten(2).transpose(1, 2)
        attention = torch.bmm(queries, self.key_conv(x).flatten(2)).softmax(-1)
        attended = torch.bmm(self.value_conv(x).flatten(2), attention.transpose(1, 2)).view_as(x)
        return self.gamma * attended + x


class HolisticCritic(nn.Module):
    """SKD's critic (the official sagan_models.Discriminator, BN preprocessing): BN over the class channels, four
    spectral-normalised 4x4 stride-2 convs (width x 1/2/4/8) with LeakyReLU(0.1), self-attention after the third and
    fourth, a 4x4 conv to one channel. Inputs narrower than 64 are first upsampled bilinearly to 64 (KdTools' rule)."""

    def __init__(self, classes, width=SKD_CRITIC_WIDTH):
        super().__init__()
        self.preprocess_additional = nn.BatchNorm2d(classes)
        channels = (classes, width, 2 * width, 4 * width, 8 * width)
        for index in range(1, 5):
            setattr(self, f"l{index}", nn.Sequential(
                nn.utils.spectral_norm(nn.Conv2d(channels[index - 1], channels[index], 4, 2, 1)), nn.LeakyReLU(0.1)))
        self.attn1, self.attn2 = SelfAttention(4 * width), SelfAttention(8 * width)
        self.last = nn.Sequential(nn.Conv2d(8 * width, 1, 4))

    def forward(self, x):
        shorter = min(x.shape[2], x.shape[3])
        if shorter < SKD_CRITIC_MIN_SIDE:
            factor = SKD_CRITIC_MIN_SIDE / shorter
            x = F.interpolate(x, (round(x.shape[2] * factor), round(x.shape[3] * factor)), mode="bilinear", align_corners=False)
        x = self.l3(self.l2(self.l1(self.preprocess_additional(x))))
        return self.last(self.attn2(self.l4(self.attn1(x))))


def segmentation_ce(logits, labels):
    """Cross-entropy of the logits upsampled to the label maps (bilinear, align_corners false), 255 ignored."""
    resized = F.interpolate(logits, labels.shape[1:], mode="bilinear", align_corners=False)
    return F.cross_entropy(resized, labels, ignore_index=IGNORE_INDEX)


def skd_pixel_wise(student_logits, teacher_logits):
    """sum over all pixels of -softmax(t) . log_softmax(s), divided by H*W (the official CriterionPixelWise)."""
    return -(F.softmax(teacher_logits, 1) * F.log_softmax(student_logits, 1)).sum() / (student_logits.shape[2] * student_logits.shape[3])


def node_similarity(pooled):
    """[N, M, M] similarities of the pooled nodes, each scaled by its (detached) L2 norm + 1e-8."""
    nodes = (pooled / (pooled.detach().pow(2).sum(1, keepdim=True).sqrt() + 1e-8)).flatten(2)
    return torch.bmm(nodes.transpose(1, 2), nodes)


def skd_pair_wise(student_map, teacher_map):
    """Both maps max-pooled (window int(H * 0.5) x int(W * 0.5), ceil mode) into M nodes; sum of the squared similarity
    differences / M^2 / N (the official sim_dis_compute)."""
    window = (int(teacher_map.shape[2] * SKD_POOL_SCALE), int(teacher_map.shape[3] * SKD_POOL_SCALE))
    teacher = node_similarity(F.max_pool2d(teacher_map, window, window, ceil_mode=True))
    student = node_similarity(F.max_pool2d(student_map, window, window, ceil_mode=True))
    nodes = teacher.shape[1]
    return (teacher - student).pow(2).sum() / nodes ** 2 / student_map.shape[0]


def gradient_penalty(critic, teacher_logits, student_logits, generator):
    """WGAN-GP: mean (||grad_x D(x)|| - 1)^2 at x = a T + (1 - a) S, one a ~ U(0, 1) per sample."""
    alpha = torch.rand(teacher_logits.shape[0], 1, 1, 1, generator=generator)
    interpolated = (alpha * teacher_logits + (1 - alpha) * student_logits).requires_grad_(True)
    score = critic(interpolated)
    gradient, = torch.autograd.grad(score, interpolated, torch.ones_like(score), retain_graph=True, create_graph=True)
    return (gradient.reshape(gradient.shape[0], -1).pow(2).sum(1).sqrt() - 1).pow(2).mean()


class SegmentationStep:
    """One training step as KdTools' SegmentationStep runs it: the teacher in eval mode under no_grad, the student in
    train mode, CE + the SKD terms, SGD; then the critic's own update on the same (detached) logits."""

    def __init__(self, method, teacher, holistic=True):
        self.teacher, self.skd = teacher, method == "SKD"
        torch.manual_seed(2)
        self.student = PspNet(SEG_STUDENT_WIDTH, SEG_CLASSES).train()
        self.critic = HolisticCritic(SEG_CLASSES).train() if self.skd and holistic else None
        self.optimizer = torch.optim.SGD(self.student.parameters(), lr=SEG_LR, momentum=SEG_MOMENTUM, weight_decay=SEG_WEIGHT_DECAY)
        if self.critic is not None:
            self.critic_optimizer = torch.optim.SGD(self.critic.parameters(), lr=SKD_CRITIC_LR, momentum=SKD_CRITIC_MOMENTUM,
                                                    weight_decay=SKD_CRITIC_WEIGHT_DECAY)

    def run(self, images, labels, generator, dropout=True):
        """One step; the terms' values (ce, pi, pa, ho, total, critic) as tensors."""
        if self.teacher is not None:
            with torch.no_grad():
                teacher_logits, teacher_map = self.teacher(images)
        logits, final_map = self.student(images, dropout)
        terms = {"ce": segmentation_ce(logits, labels)}
        if self.skd:
            terms["pi"] = SKD_PIXEL_WEIGHT * skd_pixel_wise(logits, teacher_logits)
            terms["pa"] = SKD_PAIR_WEIGHT * skd_pair_wise(final_map, teacher_map)
            if self.critic is not None:
                terms["ho"] = SKD_HOLISTIC_WEIGHT * -self.critic(logits).mean()
        total = terms["total"] = sum(terms.values())
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        if self.critic is not None:
            student_logits = logits.detach()
            self.critic_optimizer.zero_grad(set_to_none=True)
            on_teacher = self.critic(teacher_logits)
            on_student = self.critic(student_logits)
            critic_loss = SKD_HOLISTIC_WEIGHT * (on_student.mean() - on_teacher.mean())
            critic_loss = critic_loss + SKD_HOLISTIC_WEIGHT * SKD_GP_WEIGHT * gradient_penalty(
                self.critic, teacher_logits, student_logits, generator)
            critic_loss.backward()
            self.critic_optimizer.step()
            terms["critic"] = critic_loss
        return terms


def bench_segmentation(args):
    """ce_step, skd_pixel_pair_step, skd_step per image side, with the parameter counts KdTools' must equal."""
    for side in SEG_SIDES:
        torch.manual_seed(0)
        images = torch.randn(SEG_BATCH, 3, side, side)
        labels = torch.randint(0, SEG_CLASSES, (SEG_BATCH, side, side))
        torch.manual_seed(1)
        teacher = PspNet(SEG_TEACHER_WIDTH, SEG_CLASSES).eval()
        record = {"framework": "pytorch", "torch": torch.__version__, "bench": "segmentation_step", "side": side,
                  "batch": f"{SEG_BATCH}x3x{side}x{side}", "threads": torch.get_num_threads(),
                  "teacher_parameters": sum(p.numel() for p in teacher.parameters())}
        timings = {}
        for key, step in (("ce_step", SegmentationStep("CE", None)), ("skd_pixel_pair_step", SegmentationStep("SKD", teacher, holistic=False)),
                          ("skd_step", SegmentationStep("SKD", teacher))):
            generator = torch.Generator().manual_seed(0)
            timings[key] = timing_ms(lambda: step.run(images, labels, generator), args.method_warmup, args.method_iters)
            add_ms(record, key, timings[key])
            if step.critic is not None:
                record["student_parameters"] = sum(p.numel() for p in step.student.parameters())
                record["critic_parameters"] = sum(p.numel() for p in step.critic.parameters())
        add_ratio(record, "skd_to_ce", timings["skd_step"], timings["ce_step"])
        record["critic_share"] = round((timings["skd_step"][0] - timings["skd_pixel_pair_step"][0]) / timings["skd_step"][0], 3)
        yield record


def skd_parity():
    """Two SKD steps of identically filled networks on a fixed input (KdTools' `skd-parity` prints the same keys):
    dropout off, the gradient penalty's weights from a generator seeded with the step's number."""
    # The deterministic weights of KdTools' TestNetworks.FillDeterministically: one Python definition, the tests' reference.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "KdTools.Core.Tests" / "Models" / "Reference"))
    from segmentation_models import fill_deterministically

    side = 64
    count = SEG_BATCH * 3 * side * side
    images = torch.sin(0.3 * torch.arange(count, dtype=torch.float64)).view(SEG_BATCH, 3, side, side).float()
    pixels = torch.arange(SEG_BATCH * side * side)
    labels = torch.where(pixels % 13 == 0, torch.full_like(pixels, IGNORE_INDEX), (pixels // 7) % SEG_CLASSES).view(SEG_BATCH, side, side)
    teacher = PspNet(SEG_TEACHER_WIDTH, SEG_CLASSES)
    fill_deterministically(teacher)
    teacher.eval()
    step = SegmentationStep("SKD", teacher)
    fill_deterministically(step.student)
    fill_deterministically(step.critic)
    steps = []
    for number in (1, 2):
        terms = step.run(images, labels, torch.Generator().manual_seed(number), dropout=False)
        steps.append({name: value.item() for name, value in terms.items()})
    return {"framework": "pytorch", "torch": torch.__version__, "bench": "skd_parity", "steps": steps,
            "student_parameters": sum(p.numel() for p in step.student.parameters()),
            "teacher_parameters": sum(p.numel() for p in teacher.parameters()),
            "critic_parameters": sum(p.numel() for p in step.critic.parameters())}


STUDENTS = ("resnet8", "ShuffleV1", "ShuffleV2", "MobileNetV2")


def student_builder(models_folder):
    """name -> (classes -> a network whose call returns the logits). From RepDistiller's models package when
    models_folder is its models folder (what its train_student.py runs), else from the parity tests' definitions, which
    the parity tests hold to KdTools' networks (same state dict, same outputs; they also return the features)."""
    if models_folder:
        folder = Path(models_folder).resolve()
        sys.path.insert(0, str(folder.parent))
        package = __import__(folder.name)
        return "repdistiller", lambda name, classes: package.model_dict[name](num_classes=classes)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "parity"))
    from kdparity.architectures import ARCHITECTURES

    class LogitsOnly(nn.Module):
        def __init__(self, network):
            super().__init__()
            self.network = network

        def forward(self, x):
            return self.network(x)[0]

    return "kdparity", lambda name, classes: LogitsOnly(ARCHITECTURES[name](classes))


def bench_students(args):
    """Per student: a CE training step (train mode, SGD as make_optimizer) and inference in eval mode under no_grad
    (RepDistiller's validate), on one random batch."""
    source, build_student = student_builder(args.student_models)
    images = torch.randn(args.batch, 3, 32, 32)
    labels = torch.randint(0, args.classes, (args.batch,))
    for name in args.students:
        torch.manual_seed(args.seed)
        student = build_student(name, args.classes)
        optimizer = make_optimizer(student)

        ce_step = cross_entropy_step(student, optimizer, images, labels)

        def inference():
            with torch.no_grad():
                student(images)

        record = {"framework": "pytorch", "torch": torch.__version__, "bench": "student_step", "student": name,
                  "definitions": source, "parameters": parameter_count(student), "batch": args.batch,
                  "threads": torch.get_num_threads()}
        student.train()
        add_ms(record, "ce_step", timing_ms(ce_step, args.warmup, args.iters))
        student.eval()
        yield add_ms(record, "inference", timing_ms(inference, args.warmup, args.iters))


def method_list(text):
    names = [n for n in text.split(",") if n]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise argparse.ArgumentTypeError(f"no PyTorch reference for {', '.join(unknown)}; known: {', '.join(METHODS)}")
    # KD first: the other methods' ratio_to_kd needs its time.
    return sorted(set(names) | {"KD"}, key=METHODS.index)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed iterations first (default 5)")
    parser.add_argument("--iters", type=int, default=20, help="timed iterations; the median and the minimum are reported (default 20)")
    parser.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--classes", type=int, default=NUM_CLASSES, help=f"classes of every network (default {NUM_CLASSES})")
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and random data (default 0)")
    parser.add_argument("--method-warmup", type=int, default=3, help="untimed method/head steps first (default 3)")
    parser.add_argument("--method-iters", type=int, default=10, help="timed method/head steps (default 10)")
    parser.add_argument("--methods", type=method_list, default=list(METHODS),
                        help=f"comma-separated subset of {','.join(METHODS)} (KD always runs; default all)")
    parser.add_argument("--parts", default="pairs,methods,head",
                        help="comma-separated subset of pairs,methods,head,segmentation,students (default pairs,methods,head)")
    parser.add_argument("--students", default=",".join(STUDENTS),
                        help=f"students of the students part, comma-separated (default {','.join(STUDENTS)})")
    parser.add_argument("--student-models", default=None,
                        help="RepDistiller's models folder, whose definitions the students part times (default: the parity tests')")
    parser.add_argument("--skd-parity", action="store_true",
                        help="print the losses of two SKD steps of deterministically filled networks, and nothing else")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    args.students = [n for n in args.students.split(",") if n]

    torch.set_num_threads(args.threads)

    def emit(record):
        print(json.dumps(record, separators=(",", ":")), flush=True)

    if args.skd_parity:
        emit(skd_parity())
        return
    check_parameter_counts()

    if "pairs" in parts:
        for student_name, teacher_name in PAIRS:
            emit(bench_pair(student_name, teacher_name, args))
    if "methods" in parts:
        for record in bench_methods(args):
            emit(record)
    if "head" in parts:
        emit(bench_head_finetune(args))
    if "segmentation" in parts:
        for record in bench_segmentation(args):
            emit(record)
    if "students" in parts:
        for record in bench_students(args):
            emit(record)


if __name__ == "__main__":
    main()
