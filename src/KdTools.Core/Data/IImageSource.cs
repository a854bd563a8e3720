namespace KdTools.Core.Data;

/// <summary>
/// The images of a streamed split, read one at a time by index: a shard file (<see cref="ShardFile"/>) or the image
/// files of a folder. Every image has the same shape, [<see cref="Channels"/>, <see cref="Height"/>, <see cref="Width"/>]
/// uint8; <see cref="Read"/> is called from several worker threads at once.
/// </summary>
public interface IImageSource : IDisposable
{
    int Count { get; }
    int Channels { get; }
    int Height { get; }
    int Width { get; }

    /// <summary>Writes image <paramref name="index"/> as C·H·W bytes, channel-major, into <paramref name="destination"/>.</summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetFileCorrupt"/> when the image cannot be read.</exception>
    void Read(int index, Span<byte> destination);
}
