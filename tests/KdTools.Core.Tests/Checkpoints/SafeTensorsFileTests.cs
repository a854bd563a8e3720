using KdTools.Core.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Tests.Checkpoints;

public sealed class SafeTensorsFileTests : IDisposable
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Int16)]
    [InlineData(ScalarType.Int8)]
    [InlineData(ScalarType.Byte)]
    [InlineData(ScalarType.Bool)]
    public void Every_dtype_round_trips_with_shape_and_values_including_0d_and_empty(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var matrix = SampleValues(dtype, 6).reshape(2, 3);
        var scalar = SampleValues(dtype, 1).reshape();
        var empty = zeros(0, 4, dtype: dtype);
        var transposed = SampleValues(dtype, 6).reshape(3, 2).t();
        var path = _folder.File("all.safetensors");

        SafeTensorsFile.Write(path, [new("matrix", matrix), new("scalar", scalar), new("empty", empty), new("transposed", transposed)], NoMetadata);

        using var content = SafeTensorsFile.Read(path);
        Assert.Equal(["matrix", "scalar", "empty", "transposed"], content.Tensors.Keys);
        AssertSame(matrix, content.Tensors["matrix"]);
        AssertSame(scalar, content.Tensors["scalar"]);
        AssertSame(empty, content.Tensors["empty"]);
        AssertSame(transposed, content.Tensors["transposed"]);
        Assert.Empty(content.Metadata);
    }

    [Fact]
    public void Metadata_round_trips_unicode_keys_and_values()
    {
        using var scope = NewDisposeScope();
        var metadata = new Dictionary<string, string>
        {
            ["architecture"] = "resnet8",
            ["note"] = "Grüße 🎓 中文 \"quoted\" back\\slash\nnew line",
            ["ключ"] = "значение",
        };
        var path = _folder.File("meta.safetensors");

        SafeTensorsFile.Write(path, [new("w", ones(2))], metadata);

        using var content = SafeTensorsFile.Read(path);
        Assert.Equal(metadata.ToList(), content.Metadata.ToList());
    }

    [Fact]
    public void On_disk_bytes_follow_the_safetensors_layout_exactly()
    {
        using var scope = NewDisposeScope();
        var path = _folder.File("tiny.safetensors");

        SafeTensorsFile.Write(path,
            [new("w", tensor(new[] { 1.0f, -2.0f })), new("n", tensor(7L))],
            new Dictionary<string, string> { ["k"] = "v" });

        // 132 bytes of JSON padded with 4 spaces to 136 (0x88), so the tensor data starts 8-byte aligned.
        const string header = """{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}    """;
        byte[] expected =
        [
            0x88, 0, 0, 0, 0, 0, 0, 0,
            .. System.Text.Encoding.ASCII.GetBytes(header),
            0x00, 0x00, 0x80, 0x3F, // 1.0f
            0x00, 0x00, 0x00, 0xC0, // -2.0f
            0x07, 0, 0, 0, 0, 0, 0, 0, // 7L
        ];
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void Write_leaves_only_the_target_file_and_replaces_an_existing_one()
    {
        using var scope = NewDisposeScope();
        var path = _folder.File("model.safetensors");

        SafeTensorsFile.Write(path, [new("w", zeros(3))], NoMetadata);
        SafeTensorsFile.Write(path, [new("w", ones(5))], NoMetadata);

        Assert.Equal(["model.safetensors"], _folder.Entries());
        using var content = SafeTensorsFile.Read(path);
        Assert.True(content.Tensors["w"].Equals(ones(5)));
    }

    [Fact]
    public void Failed_write_is_a_KdTools_error_naming_the_target_and_removes_its_temporary_file()
    {
        using var scope = NewDisposeScope();
        var occupied = _folder.File("occupied");
        Directory.CreateDirectory(occupied);

        var ex = Assert.Throws<KdException>(() => SafeTensorsFile.Write(occupied, [new("w", zeros(3))], NoMetadata));

        Assert.Equal(KdErrorIds.CheckpointWriteFailed, ex.ErrorId);
        Assert.Equal(KdErrorKind.WriteError, ex.Kind);
        Assert.Contains($"'{occupied}'", ex.Message);
        Assert.Equal(["occupied"], _folder.Entries());
    }

    [Fact]
    public void A_folder_that_refuses_writes_is_permission_denied_naming_the_target()
    {
        using var scope = NewDisposeScope();
        // sysfs refuses new files to everyone, root included (a chmod'ed folder would not stop root, who runs CI here).
        var target = "/sys/kdtools-test.safetensors";

        var ex = Assert.Throws<KdException>(() => SafeTensorsFile.Write(target, [new("w", zeros(3))], NoMetadata));

        Assert.Equal(KdErrorIds.CheckpointWriteFailed, ex.ErrorId);
        Assert.Equal(KdErrorKind.PermissionDenied, ex.Kind);
        Assert.Contains($"'{target}'", ex.Message);
        Assert.DoesNotContain(".tmp", ex.Message);
    }

    [Fact]
    public void Write_rejects_duplicate_and_reserved_names_before_creating_a_file()
    {
        using var scope = NewDisposeScope();
        var path = _folder.File("bad.safetensors");

        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [new("w", zeros(1)), new("w", zeros(1))], NoMetadata));
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [new("__metadata__", zeros(1))], NoMetadata));
        Assert.Throws<ArgumentException>(() => SafeTensorsFile.Write(path, [new("c", complex(zeros(1), zeros(1)))], NoMetadata));
        Assert.Empty(_folder.Entries());
    }

    [Fact]
    public void Read_tensors_outlive_the_dispose_scope_open_while_reading()
    {
        using var scope = NewDisposeScope();
        var path = _folder.File("owned.safetensors");
        SafeTensorsFile.Write(path, [new("w", arange(4, dtype: ScalarType.Float32))], NoMetadata);

        SafeTensorsContent content;
        using (NewDisposeScope())
            content = SafeTensorsFile.Read(path);

        using (content)
            Assert.Equal(6f, content.Tensors["w"].sum().item<float>());
    }

    /// <summary>Distinct values exactly representable in <paramref name="dtype"/>, negative where the type allows.</summary>
    private static Tensor SampleValues(ScalarType dtype, int count) => dtype switch
    {
        ScalarType.Bool => arange(count).remainder(2).eq(0),
        ScalarType.Byte => arange(count, dtype: ScalarType.Int64).mul(40).to(dtype),
        ScalarType.Float64 or ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16
            => arange(count, dtype: ScalarType.Float64).mul(1.25).sub(3).to(dtype),
        _ => arange(count, dtype: ScalarType.Int64).mul(37).sub(100).to(dtype),
    };

    private static void AssertSame(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(DeviceType.CPU, actual.device_type);
        Assert.True(expected.Equals(actual), "values differ after the round trip");
    }
}
