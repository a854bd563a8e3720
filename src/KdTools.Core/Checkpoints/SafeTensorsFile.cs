using static TorchSharp.torch;

namespace KdTools.Core.Checkpoints;

/// <summary>
/// Reads and writes safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's
/// dtype, shape and byte range, then the raw little-endian tensor bytes. PyTorch reads them with the
/// <c>safetensors</c> package, and loading never executes code from the file.
/// </summary>
public static class SafeTensorsFile
{
    // Large enough that bulk copies dominate, small enough not to land every small tensor's buffer on the large object heap.
    private const int CopyChunkBytes = 64 * 1024;

    /// <summary>
    /// Writes <paramref name="tensors"/> in the given order, plus <paramref name="metadata"/> (omitted when empty).
    /// The file appears under <paramref name="path"/> only once complete: it is written to a temporary file in the
    /// same folder, flushed to disk, then moved over the target, so a crash never leaves a partial checkpoint.
    /// Tensors may live on any device and need not be contiguous.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty, repeated or <c>__metadata__</c>, or a dtype has no safetensors equivalent.</exception>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = SafeTensorsHeader.Encode(DescribeLayout(tensors), metadata);
        var fullPath = Path.GetFullPath(path);
        var tempPath = Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyChunkBytes))
            {
                stream.Write(header);
                foreach (var (_, tensor) in tensors)
                    WriteData(stream, tensor);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tempPath, fullPath, overwrite: true);
        }
        catch
        {
            if (File.Exists(tempPath))
                File.Delete(tempPath);
            throw;
        }
    }

    /// <summary>Loads every tensor of a safetensors file onto the CPU, with its stored dtype and shape.</summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.CheckpointMissing"/> when there is no such file;
    /// <see cref="KdErrorIds.CheckpointCorrupt"/> when its header or length is inconsistent.</exception>
    public static SafeTensorsContent Read(string path)
    {
        if (!File.Exists(path))
            throw new KdException(KdErrorIds.CheckpointMissing, KdErrorKind.ObjectNotFound,
                $"checkpoint '{path}' does not exist; check the path, or save a checkpoint there first", path);

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyChunkBytes);
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
