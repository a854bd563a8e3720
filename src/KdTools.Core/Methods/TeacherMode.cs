namespace KdTools.Core.Methods;

/// <summary>
/// The mode the teacher runs in during distillation: an option of the methods whose references distill from a teacher
/// in train mode (OFD, TOFD); every other method runs it in eval mode.
/// </summary>
internal enum TeacherMode
{
    /// <summary>BatchNorm with its running statistics, frozen: KdTools' rule for every other method.</summary>
    Eval,

    /// <summary>BatchNorm with each batch's statistics, updating its running averages (on the run's private copy).</summary>
    Train,
}
