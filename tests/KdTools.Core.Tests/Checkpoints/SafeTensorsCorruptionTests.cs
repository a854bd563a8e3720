using System.Buffers.Binary;
using System.Text;
using KdTools.Core.Checkpoints;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Checkpoints;

public sealed class SafeTensorsCorruptionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Missing_file_is_CheckpointMissing_naming_the_path()
    {
        var path = _folder.File("nowhere.safetensors");

        var ex = Assert.Throws<KdException>(() => SafeTensorsFile.Read(path));

        Assert.Equal(KdErrorIds.CheckpointMissing, ex.ErrorId);
        Assert.Equal(KdErrorKind.ObjectNotFound, ex.Kind);
        Assert.Contains($"'{path}'", ex.Message);
        Assert.Equal(path, ex.Target);
    }

    [Fact]
    public void Cut_off_tensor_data_is_reported_as_truncated_with_both_sizes()
    {
        var path = WriteFloatMatrix("cut.safetensors");
        using (var stream = new FileStream(path, FileMode.Open))
            stream.SetLength(stream.Length - 1000);

        var ex = ReadCorrupt(path);

        Assert.Contains($"checkpoint '{path}' is truncated: header says 40,000 bytes of tensor data, file has 39,000; re-save it or use the last good checkpoint", ex.Message);
    }

    [Fact]
    public void File_cut_inside_the_header_is_corrupt()
    {
        var path = WriteFloatMatrix("cut-header.safetensors");
        using (var stream = new FileStream(path, FileMode.Open))
            stream.SetLength(20);

        Assert.Contains("is truncated: header says it is", ReadCorrupt(path).Message);
    }

    [Fact]
    public void Overwritten_header_byte_is_corrupt()
    {
        var path = WriteFloatMatrix("scribbled.safetensors");
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.Position = 8;
            stream.WriteByte((byte)'x');
        }

        Assert.Contains("not valid JSON", ReadCorrupt(path).Message);
    }

    [Theory]
    [InlineData("""{"a":""", 0, "not valid JSON")]
    [InlineData("""[1, 2]""", 0, "JSON Array, not an object")]
    [InlineData("""{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}""", 4, "tensor 'a' as dtype 'Q7'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1]}}""", 4, "tensor 'a' without the required")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "shape for tensor 'a' that is not a list of non-negative integers")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", 4, "gives tensor 'a' 1 data_offsets")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "names 'a' twice")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "tensor 'b' (F32 [1], data_offsets [4, 8]) overlapping tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "4 unaccounted bytes before tensor 'b'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4, "ending before it begins")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "offsets span 8 bytes, but its dtype and shape need 12")]
    [InlineData("""{"a":{"dtype":"I64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", 8, "overflows")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8, "is truncated: header says 16 bytes of tensor data, file has 8")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12, "has 4 bytes after the last tensor's data")]
    [InlineData("""{"__metadata__":{"k":1}}""", 0, "__metadata__ entry 'k' that is a JSON Number, not a string")]
    public void Inconsistent_header_is_CheckpointCorrupt_saying_what_is_wrong(string json, int dataBytes, string problem)
    {
        var path = WriteRaw(Encoding.UTF8.GetBytes(json), dataBytes);

        var ex = ReadCorrupt(path);

        Assert.StartsWith($"checkpoint '{path}' ", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void Header_that_is_not_utf8_is_corrupt()
    {
        var path = WriteRaw([.. "{\""u8, 0xFF, .. "\":1}"u8], 0);

        Assert.Contains("not valid UTF-8", ReadCorrupt(path).Message);
    }

    [Fact]
    public void Header_length_beyond_the_file_is_corrupt()
    {
        var path = WriteRaw("{}"u8.ToArray(), 0, declaredHeaderLength: 1_000);

        Assert.Contains("is truncated: header says it is 1,000 bytes, file has 2 after the length prefix", ReadCorrupt(path).Message);
    }

    [Fact]
    public void File_shorter_than_the_length_prefix_is_corrupt()
    {
        var path = _folder.File("stub.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);

        Assert.Contains("is 3 bytes long", ReadCorrupt(path).Message);
    }

    private static KdException ReadCorrupt(string path)
    {
        var ex = Assert.Throws<KdException>(() => SafeTensorsFile.Read(path).Dispose());
        Assert.Equal(KdErrorIds.CheckpointCorrupt, ex.ErrorId);
        Assert.Equal(KdErrorKind.InvalidData, ex.Kind);
        return ex;
    }

    private string WriteFloatMatrix(string name)
    {
        using var scope = NewDisposeScope();
        var path = _folder.File(name);
        SafeTensorsFile.Write(path, [new("w", ones(100, 100))], new Dictionary<string, string>());
        return path;
    }

    private string WriteRaw(byte[] header, int dataBytes, ulong? declaredHeaderLength = null)
    {
        var path = _folder.File("raw.safetensors");
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
