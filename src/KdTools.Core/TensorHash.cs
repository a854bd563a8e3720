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
    public static string Of(IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sink = new HashSink(hash);
        foreach (var (name, tensor) in tensors)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{name}:{tensor.dtype}:{string.Join(",", tensor.shape)};"));
            long bytes = tensor.numel() * tensor.element_size();
            if (bytes == 0) continue;
            using var scope = NewDisposeScope();
            tensor.detach().cpu().contiguous().WriteBytesToStream(sink, (int)Math.Min(bytes, ChunkBytes));
        }
        return Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
    }

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
