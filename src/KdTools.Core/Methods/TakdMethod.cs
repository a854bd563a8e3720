using System.ComponentModel;
using KdTools.Core.Models;

namespace KdTools.Core.Methods;

internal sealed class TakdOptions : KdOptions
{
    [Description("Architecture of the teacher assistant, between teacher and student in size (TAKD paper: e.g. resnet20 between resnet56 and resnet8).")]
    public string Assistant { get; set; } = "resnet20";

    [Description("Epochs of the assistant's own distillation; 0 = the same as -Epochs.")]
    public int AssistantEpochs { get; set; }

    public override void Validate()
    {
        base.Validate();
        Require(ArchitectureRegistry.Contains(Assistant), nameof(Assistant),
            UnknownName.Message("architecture", Assistant, ArchitectureRegistry.All.Select(a => a.Name)), Assistant);
        Require(AssistantEpochs >= 0, nameof(AssistantEpochs), "must be ≥ 0", AssistantEpochs);
    }
}

/// <summary>
/// Teacher-assistant KD (Mirzadeh et al. 2020): the teacher distills into an assistant of intermediate size, which
/// then distills into the student; both steps are Hinton KD with the same options. The assistant's run is the
/// method's <see cref="IntermediateTeachers"/>; as a loss this class is the second step's KD from the assistant.
/// </summary>
[DistillationMethod("TAKD", "Teacher-assistant KD: teacher → assistant → student, two KD runs (option Assistant).",
    Paper = "Mirzadeh et al. Improved Knowledge Distillation via Teacher Assistant. AAAI 2020")]
internal sealed class TakdMethod(TakdOptions options) : DistillationMethod<TakdOptions>(options)
{
    public override double TaskLossWeight => Options.TaskLossWeight;
    public override IReadOnlyCollection<string> TeacherFeaturesRead => [];

    public override void AddLosses(StepContext step, LossTerms terms) => KdMethod.AddKdTerm(step, terms, Options);

    public override IReadOnlyList<IntermediateTeacher> IntermediateTeachers =>
    [
        new IntermediateTeacher("assistant", Options.Assistant, () => MethodRegistry.Create("KD", new Dictionary<string, object?>
        {
            [nameof(KdOptions.Temperature)] = Options.Temperature,
            [nameof(KdOptions.Alpha)] = Options.Alpha,
            [nameof(KdOptions.CeWeight)] = Options.CeWeight,
            [nameof(KdOptions.LogitStandardization)] = Options.LogitStandardization,
        }), Options.AssistantEpochs),
    ];
}
