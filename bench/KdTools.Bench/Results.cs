namespace KdTools.Bench;

/// <summary>CE step, KD step and teacher inference of one student/teacher pair.</summary>
/// <param name="TeacherEvalPlain">KdTools only: the teacher without BatchNorm folding, on NCHW-contiguous inputs.</param>
internal sealed record StepTimes(string Student, string Teacher, int Batch, int Threads, Timing CeStep, Timing KdStep, Timing TeacherEval,
    Timing? TeacherEvalPlain = null)
{
    public Dictionary<string, object> ToJson(string framework)
    {
        var record = new Dictionary<string, object>
        {
            ["framework"] = framework, ["student"] = Student, ["teacher"] = Teacher, ["batch"] = Batch, ["threads"] = Threads,
        };
        CeStep.AddMs(record, "ce_step");
        KdStep.AddMs(record, "kd_step");
        TeacherEval.AddMs(record, "teacher_eval");
        TeacherEvalPlain?.AddMs(record, "teacher_eval_plain");
        return record;
    }
}

/// <summary>One method's training step (resnet20 from resnet56) and its ratio to the KD step of the same run.</summary>
internal sealed record MethodStepTime(string Method, Timing Step, Ratio RatioToKd)
{
    public Dictionary<string, object> ToJson(string framework)
    {
        var record = new Dictionary<string, object>
        {
            ["framework"] = framework, ["bench"] = "method_step", ["method"] = Method,
            ["student"] = MethodStepBenchmark.Student, ["teacher"] = MethodStepBenchmark.Teacher,
        };
        Step.AddMs(record, "step");
        RatioToKd.Add(record, "ratio_to_kd");
        return record;
    }
}

/// <summary>A head fine-tuning step on the frozen network against one CE training step of it.</summary>
internal sealed record HeadFineTuneTimes(string Teacher, Timing HeadStep, Timing TrainStep)
{
    public Dictionary<string, object> ToJson(string framework)
    {
        var record = new Dictionary<string, object> { ["framework"] = framework, ["bench"] = "head_finetune", ["teacher"] = Teacher };
        HeadStep.AddMs(record, "head_step");
        TrainStep.AddMs(record, "train_step");
        HeadStep.Over(TrainStep).Add(record, "ratio");
        return record;
    }
}
