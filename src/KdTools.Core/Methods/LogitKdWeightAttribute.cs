namespace KdTools.Core.Methods;

/// <summary>
/// Marks the option of a method's options class that weights its Hinton KD term on the logits: what
/// <see cref="Training.DistillationRequest.KdWeight"/> (the cmdlets' <c>-KdWeight</c>) sets. A method names it once,
/// here, instead of the registry looking for an option of a certain name; a method without one has no KD term to
/// weight.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = true)]
internal sealed class LogitKdWeightAttribute : Attribute;
