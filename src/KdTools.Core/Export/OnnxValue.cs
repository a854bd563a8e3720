namespace KdTools.Core.Export;

/// <summary>
/// A value in an ONNX graph under construction: its name and its static shape past the (dynamic) batch dimension — a
/// feature map [N, <see cref="Channels"/>, <see cref="Height"/>, <see cref="Width"/>], or a vector [N, Channels] when
/// <see cref="IsVector"/>. The exporter tracks shapes itself, so emitters that need a size (channel shuffles, adaptive
/// pooling, resizing) know it without running the network.
/// </summary>
internal readonly record struct OnnxValue(string Name, long Channels, long Height, long Width)
{
    public bool IsVector => Height == 0 && Width == 0;

    public static OnnxValue Vector(string name, long width) => new(name, width, 0, 0);
}
