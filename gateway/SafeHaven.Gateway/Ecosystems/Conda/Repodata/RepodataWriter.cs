using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace SafeHaven.Gateway.Ecosystems.Conda.Repodata;

/// <summary>
/// Writes the appliance's <c>repodata.json</c> for one subdir as a stream: <c>info.subdir</c>, the listed records of
/// <c>packages</c> and <c>packages.conda</c> (each copied from the upstream file record by record, every upstream field
/// kept but <c>url</c>, which would send a client around the mirror, and upstream's own <c>indexed_timestamp</c>;
/// then the appliance's <c>indexed_timestamp</c>, CEP 47, its first-seen time in milliseconds), <c>removed</c> as
/// upstream gave it, and <c>repodata_version</c> 1. No <c>base_url</c> is written, so clients fetch every file relative
/// to this index, from the appliance. Memory holds one record at a time.
/// </summary>
public static class RepodataWriter
{
    private const int FlushAt = 256 * 1024;

    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

    public static async Task WriteAsync(Stream output, string subdir, SafeFileHandle? upstream, IReadOnlyList<CondaRecord> listed,
        IReadOnlyList<string> removed, CancellationToken cancellationToken)
    {
        await using var writer = new Utf8JsonWriter(output, Options);
        writer.WriteStartObject();
        writer.WriteStartObject("info");
        writer.WriteString("subdir", subdir);
        writer.WriteEndObject();
        foreach (var (property, conda) in new[] { ("packages", false), ("packages.conda", true) })
        {
            writer.WriteStartObject(property);
            foreach (var record in listed)
            {
                if (record.IsConda != conda)
                {
                    continue;
                }
                cancellationToken.ThrowIfCancellationRequested();
                using (var document = RepodataReader.ReadRecord(upstream ?? throw new InvalidOperationException("records without their upstream file"), record))
                {
                    writer.WritePropertyName(record.Filename);
                    writer.WriteStartObject();
                    foreach (var field in document.RootElement.EnumerateObject())
                    {
                        if (field.NameEquals("url"u8) || field.NameEquals("indexed_timestamp"u8))
                        {
                            continue;
                        }
                        field.WriteTo(writer);
                    }
                    writer.WriteNumber("indexed_timestamp", record.FirstSeenMs);
                    writer.WriteEndObject();
                }
                if (writer.BytesPending > FlushAt)
                {
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            writer.WriteEndObject();
        }
        writer.WriteStartArray("removed");
        foreach (var name in removed)
        {
            writer.WriteStringValue(name);
        }
        writer.WriteEndArray();
        writer.WriteNumber("repodata_version", 1);
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
