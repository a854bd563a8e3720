using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace KdTools.Core;

/// <summary>
/// A short fingerprint of named tensors (their names, dtypes, shapes and bytes): equal fingerprints mean equal
/// contents, so a resume can tell whether it sees the dataset and teacher weights its run started with.
/// </summary>
internal static class TensorHash
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>The first 16 hex digits of SHA-256 over the tensors, in the given order.</summary>
    public static string Of(IEnumerable<(string Name, Tensor Tensor)> tensors) => Of(tensors.Select(t => Part.Of(t.Name, t.Tensor)));

    /// <summary>
    /// The same hash over named parts, each given as consecutive chunks along its first dimension: a tensor in chunks
    /// hashes as the whole tensor, so a streamed split hashes as the same split in memory.
    /// </summary>
    public static string Of(IEnumerable<Part> parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sink = new HashSink(hash);
        foreach (var part in parts)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{part.Name}:{part.Dtype}:{string.Join(",", part.Shape)};"));
            foreach (var chunk in part.Chunks())
            {
                using (var scope = NewDisposeScope())
                {
                    long bytes = chunk.numel() * chunk.element_size();
                    if (bytes > 0) chunk.detach().cpu().contiguous().WriteBytesToStream(sink, (int)Math.Min(bytes, ChunkBytes));
                }
                if (part.OwnsChunks) chunk.Dispose();
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
    }

    /// <summary>One named tensor to hash: its dtype, its shape and its contents as consecutive chunks.</summary>
    /// <param name="OwnsChunks">Whether each chunk is a new tensor to dispose once hashed (not the caller's tensor).</param>
    internal sealed record Part(string Name, ScalarType Dtype, long[] Shape, Func<IEnumerable<Tensor>> Chunks, bool OwnsChunks)
    {
        public static Part Of(string name, Tensor tensor) => new(name, tensor.dtype, tensor.shape, () => [tensor], OwnsChunks: false);

        /// <summary>The images of a split, in memory or streamed, read in chunks of a bounded size.</summary>
        public static Part Of(string name, Data.ImageSet set) =>
            new(name, ScalarType.Byte, [set.Count, set.Channels, set.Height, set.Width], () => set.Chunks(ImagesPerChunk), OwnsChunks: true);
    }

    /// <summary>Images read at once when hashing a split: bounds the copy a streamed split needs.</summary>
    private const int ImagesPerChunk = 1024;

    /// <summary>A write-only stream that feeds the hash, so tensor bytes are hashed without a copy of the whole tensor.</summary>
    private sealed class HashSink(IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => hash.AppendData(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => hash.AppendData(buffer);
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
