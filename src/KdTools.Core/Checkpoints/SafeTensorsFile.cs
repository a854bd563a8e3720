using KdTools.Core.IO;
using static TorchSharp.torch;

namespace KdTools.Core.Checkpoints;

/// <summary>
/// Reads and writes safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the raw little-endian tensor bytes. PyTorch reads them with the
/// <c>safetensors</c> package, and loading never executes code from the file.
/// </summary>
internal static class SafeTensorsFile
{
    // Large enough that bulk copies dominate, small enough not to land every small tensor's buffer on the large object heap.
    private const int CopyChunkBytes = 64 * 1024;

    /// <summary>
    /// Writes <paramref name="tensors"/> in the given order, plus <paramref name="metadata"/> (omitted when empty).
    /// The file appears under <paramref name="path"/> only once complete (<see cref="AtomicFile"/>), so a crash never
    /// leaves a partial checkpoint; a missing folder is created. Tensors may live on any device and need not be contiguous.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty, repeated or <c>__metadata__</c>, or a dtype has no safetensors equivalent.</exception>
    /// <exception cref="KdException"><see cref="KdErrorIds.CheckpointWriteFailed"/> when the file cannot be written
    /// (permission denied, a file where a folder should be, a full disk), naming <paramref name="path"/>.</exception>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = SafeTensorsHeader.Encode(DescribeLayout(tensors), metadata);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            foreach (var (_, tensor) in tensors)
                WriteData(stream, tensor);
        }, KdErrorIds.CheckpointWriteFailed, "checkpoint");
    }

    /// <summary>Loads every tensor of a safetensors file onto the CPU, with its stored dtype and shape.</summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.CheckpointMissing"/> when there is no such file;
    /// <see cref="KdErrorIds.CheckpointCorrupt"/> when its header or length is inconsistent.</exception>
    public static SafeTensorsContent Read(string path)
    {
        using var stream = Open(path);
        var header = SafeTensorsHeader.Decode(stream, path);
        var tensors = new OrderedDictionary<string, Tensor>();
        try
        {
            foreach (var entry in header.Entries)
            {
                // Detached: the content owns these until it is disposed, whatever scope the caller has open.
                var tensor = empty(entry.Shape, entry.Dtype.ScalarType).DetachFromDisposeScope();
                tensors.Add(entry.Name, tensor);
                if (entry.End > entry.Begin)
                    tensor.ReadBytesFromStream(stream, ChunkSize(entry.End - entry.Begin));
            }
        }
        catch
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
            throw;
        }
        return new SafeTensorsContent(tensors, header.Metadata);
    }

    /// <summary>The string metadata of a safetensors file, reading only its header (the header is checked as
    /// <see cref="Read"/> checks it).</summary>
    /// <exception cref="KdException">As <see cref="Read"/>.</exception>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        using var stream = Open(path);
        return SafeTensorsHeader.Decode(stream, path).Metadata;
    }

    private static FileStream Open(string path)
    {
        if (!File.Exists(path))
            throw new KdException(KdErrorIds.CheckpointMissing, KdErrorKind.ObjectNotFound,
                $"checkpoint '{path}' does not exist; check the path, or save a checkpoint there first", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyChunkBytes);
    }

    private static List<SafeTensorsEntry> DescribeLayout(IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        var entries = new List<SafeTensorsEntry>(tensors.Count);
        var names = new HashSet<string>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || SafeTensorsHeader.IsReservedName(name) || !names.Add(name))
                throw new ArgumentException($"tensor name '{name}' is empty, reserved or used twice; every tensor needs its own name", nameof(tensors));
            var dtype = SafeTensorsDtype.FromScalarType(tensor.dtype)
                ?? throw new ArgumentException($"tensor '{name}' has dtype {tensor.dtype}, which safetensors cannot store (supported: {SafeTensorsDtype.SupportedNames})", nameof(tensors));
            var size = tensor.numel() * dtype.ElementSize;
            entries.Add(new SafeTensorsEntry(name, dtype, tensor.shape, offset, offset + size));
            offset += size;
        }
        return entries;
    }

    private static void WriteData(Stream stream, Tensor tensor)
    {
        var bytes = tensor.numel() * tensor.element_size();
        if (bytes == 0)
            return;
        using var scope = NewDisposeScope();
        var hostCopy = tensor.detach().cpu().contiguous();
        hostCopy.WriteBytesToStream(stream, ChunkSize(bytes));
    }

    private static int ChunkSize(long bytes) => (int)Math.Min(bytes, CopyChunkBytes);
}
