using System.Buffers.Binary;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace KdTools.Core.Checkpoints;

/// <summary>Where one tensor's bytes lie in the data section (offsets relative to its start).</summary>
internal sealed record SafeTensorsEntry(string Name, SafeTensorsDtype Dtype, long[] Shape, long Begin, long End)
{
    public string Describe() => $"'{Name}' ({Dtype.Name} [{string.Join(", ", Shape)}], data_offsets [{Begin}, {End}])";
}

/// <summary>
/// The JSON header of a safetensors file: encoded the way the reference (Rust) writer does, decoded with the
/// reference reader's checks, so a file that passes here also loads in PyTorch's <c>safetensors</c> and vice versa.
/// </summary>
internal sealed class SafeTensorsHeader
{
    private const string MetadataKey = "__metadata__";

    // The reference reader refuses larger headers; checking first keeps a corrupt length from allocating gigabytes.
    private const long MaxHeaderBytes = 100_000_000;

    private SafeTensorsHeader(IReadOnlyList<SafeTensorsEntry> entries, OrderedDictionary<string, string> metadata)
    {
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>Ordered by position in the data section.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    public OrderedDictionary<string, string> Metadata { get; }

    public static bool IsReservedName(string name) => name == MetadataKey;

    /// <summary>The 8-byte length prefix plus the JSON, space-padded so tensor data starts 8-byte aligned.</summary>
    public static byte[] Encode(IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        var json = new MemoryStream();
        // Relaxed escaping writes non-ASCII text as UTF-8 like the reference writer (only characters beyond the
        // Basic Multilingual Plane still become \u escapes, which every JSON reader decodes the same).
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata)
                    writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var entry in entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", entry.Dtype.Name);
                writer.WriteStartArray("shape");
                foreach (var size in entry.Shape)
                    writer.WriteNumberValue(size);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(entry.Begin);
                writer.WriteNumberValue(entry.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        var padding = (int)((8 - json.Length % 8) % 8);
        var header = new byte[8 + json.Length + padding];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)(json.Length + padding));
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(header.AsSpan(8));
        header.AsSpan(8 + (int)json.Length).Fill((byte)' ');
        return header;
    }

    /// <summary>
    /// Reads the header from the start of <paramref name="stream"/>, leaving it positioned at the data section,
    /// and checks that the tensors tile that section exactly as the file's length says.
    /// </summary>
    public static SafeTensorsHeader Decode(Stream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < 8)
            throw Corrupt(path, $"is {fileLength} bytes long, too short for the 8-byte header length of a safetensors file");

        Span<byte> lengthPrefix = stackalloc byte[8];
        stream.ReadExactly(lengthPrefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthPrefix);
        if (headerLength > MaxHeaderBytes)
            throw Corrupt(path, $"declares a {Count(headerLength)}-byte header, more than the {Count(MaxHeaderBytes)} bytes safetensors allows");
        if ((long)headerLength > fileLength - 8)
            throw Corrupt(path, $"is truncated: header says it is {Count(headerLength)} bytes, file has {Count(fileLength - 8)} after the length prefix");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        var (described, metadata) = Parse(headerBytes, path);
        // Stable, so zero-byte tensors sharing an offset keep their header order.
        var entries = described.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();

        var dataBytes = ValidateLayout(entries, path);
        var fileDataBytes = fileLength - 8 - (long)headerLength;
        if (fileDataBytes < dataBytes)
            throw Corrupt(path, $"is truncated: header says {Count(dataBytes)} bytes of tensor data, file has {Count(fileDataBytes)}");
        if (fileDataBytes > dataBytes)
            throw Corrupt(path, $"has {Count(fileDataBytes - dataBytes)} bytes after the last tensor's data, which the header does not describe");
        return new SafeTensorsHeader(entries, metadata);
    }

    private static (List<SafeTensorsEntry> Entries, OrderedDictionary<string, string> Metadata) Parse(byte[] headerBytes, string path)
    {
        // JsonDocument does not check UTF-8 inside strings until they are read, so check it up front.
        if (!Utf8.IsValid(headerBytes))
            throw Corrupt(path, "has a header that is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException ex)
        {
            throw Corrupt(path, $"has a header that is not valid JSON ({ex.Message})", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Corrupt(path, $"has a header that is a JSON {root.ValueKind}, not an object of tensors");

            var entries = new List<SafeTensorsEntry>();
            var names = new HashSet<string>();
            var metadata = new OrderedDictionary<string, string>();
            foreach (var property in root.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw Corrupt(path, $"names '{property.Name}' twice in its header");
                if (IsReservedName(property.Name))
                    ReadMetadata(property.Value, metadata, path);
                else
                    entries.Add(ReadEntry(property.Name, property.Value, path));
            }
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(JsonElement element, OrderedDictionary<string, string> metadata, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Corrupt(path, $"has a {MetadataKey} that is a JSON {element.ValueKind}, not an object of strings");
        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Corrupt(path, $"has {MetadataKey} entry '{item.Name}' that is a JSON {item.Value.ValueKind}, not a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafeTensorsEntry ReadEntry(string name, JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !element.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
            throw Corrupt(path, $"describes tensor '{name}' without the required \"dtype\" string, \"shape\" array and \"data_offsets\" array");

        var dtypeName = dtypeElement.GetString()!;
        var dtype = SafeTensorsDtype.FromName(dtypeName)
            ?? throw Corrupt(path, $"stores tensor '{name}' as dtype '{dtypeName}', which KdTools cannot read (supported: {SafeTensorsDtype.SupportedNames})");

        var shape = ReadNaturals(shapeElement, name, "shape", path);
        var offsets = ReadNaturals(offsetsElement, name, "data_offsets", path);
        if (offsets.Length != 2)
            throw Corrupt(path, $"gives tensor '{name}' {offsets.Length} data_offsets instead of [begin, end]");
        return new SafeTensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadNaturals(JsonElement array, string name, string field, string path)
    {
        var values = new long[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
                throw Corrupt(path, $"has a {field} for tensor '{name}' that is not a list of non-negative integers");
            values[i++] = value;
        }
        return values;
    }

    /// <summary>Checks that tensors sorted by position tile the data section without gaps or overlaps; returns its size.</summary>
    private static long ValidateLayout(IReadOnlyList<SafeTensorsEntry> entries, string path)
    {
        long expectedBegin = 0;
        SafeTensorsEntry? previous = null;
        foreach (var entry in entries)
        {
            if (entry.End < entry.Begin)
                throw Corrupt(path, $"has tensor {entry.Describe()} ending before it begins");
            if (entry.Begin < expectedBegin)
                throw Corrupt(path, $"has tensor {entry.Describe()} overlapping tensor {previous!.Describe()}");
            if (entry.Begin > expectedBegin)
                throw Corrupt(path, $"has {Count(entry.Begin - expectedBegin)} unaccounted bytes before tensor {entry.Describe()}");

            var size = ByteSize(entry, path);
            if (entry.End - entry.Begin != size)
                throw Corrupt(path, $"has tensor {entry.Describe()} whose offsets span {Count(entry.End - entry.Begin)} bytes, but its dtype and shape need {Count(size)}");
            expectedBegin = entry.End;
            previous = entry;
        }
        return expectedBegin;
    }

    private static long ByteSize(SafeTensorsEntry entry, string path)
    {
        try
        {
            return checked(entry.Shape.Aggregate(1L, (product, size) => product * size) * entry.Dtype.ElementSize);
        }
        catch (OverflowException ex)
        {
            throw Corrupt(path, $"has tensor {entry.Describe()} whose shape overflows a 64-bit byte count", ex);
        }
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Count(ulong value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static KdException Corrupt(string path, string problem, Exception? inner = null) =>
        new(KdErrorIds.CheckpointCorrupt, KdErrorKind.InvalidData,
            $"checkpoint '{path}' {problem}; re-save it or use the last good checkpoint", path, inner);
}
