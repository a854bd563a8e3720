using KdTools.Core.IO;

namespace KdTools.Core.Reporting;

/// <summary>Writes a rendered chart.</summary>
public static class PngFile
{
    /// <summary>Writes <paramref name="png"/> to <paramref name="path"/> atomically, creating its folder when missing.</summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.PlotWriteFailed"/> when the file cannot be written.</exception>
    public static void Write(string path, byte[] png) => AtomicFile.Write(path, stream => stream.Write(png), KdErrorIds.PlotWriteFailed, "plot");
}
