namespace KdTools.Core.Export;

/// <summary>
/// A network or block that writes its eval-mode forward pass into an ONNX graph: the same computation as its
/// <c>forward</c>/<c>Run</c> in eval mode (dropout off, BatchNorm on running statistics, folded into the convolution
/// before it where there is one). Every registered architecture implements it; the exporter never reaches into a
/// model's fields.
/// </summary>
internal interface IOnnxExportable
{
    /// <summary>
    /// Adds the nodes computing this module's output from <paramref name="input"/> and returns that output. A network
    /// returns its logits and records its stage outputs (<c>stage1..N</c>, as <see cref="Models.FeatureNames.Stage"/>)
    /// with <see cref="OnnxGraph.Feature"/>, for exit heads.
    /// </summary>
    OnnxValue ExportOnnx(OnnxGraph graph, OnnxValue input);
}

/// <summary>Exit heads that write their logits into an ONNX graph from the stage features the backbone recorded.</summary>
internal interface IOnnxExportableExits
{
    /// <summary>Each exit's logits [N, classes], by exit name (as <see cref="Models.ExitHeads.ExitNames"/>).</summary>
    IReadOnlyDictionary<string, OnnxValue> ExportOnnx(OnnxGraph graph);
}
