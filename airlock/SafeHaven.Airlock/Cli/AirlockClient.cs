using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using SafeHaven.Airlock.Api;

namespace SafeHaven.Airlock.Cli;

/// <summary>A refusal from the appliance (its problem details), or a transport failure.</summary>
internal sealed class AirlockClientException(string message) : Exception(message);

/// <summary>The appliance's airlock API over HTTP, as the CLI uses it.</summary>
internal sealed class AirlockClient(HttpClient http) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static AirlockClient Create(Uri baseUrl, string? bearer)
    {
        var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(30) };
        if (!string.IsNullOrWhiteSpace(bearer))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return new AirlockClient(http);
    }

    public async Task<JsonNode> SendAsync(HttpMethod method, string path, object? body, (string Name, string Value)? header, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }
        if (header is { } h)
        {
            request.Headers.TryAddWithoutValidation(h.Name, h.Value);
        }
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, cancellationToken).ConfigureAwait(false);
    }

    public async Task<UploadStatusView> BeginUploadAsync(string depositToken, string path, long size, string sha256, int chunkSize, CancellationToken cancellationToken)
    {
        var node = await SendAsync(HttpMethod.Post, "airlock/deposit/uploads", new BeginUploadRequest(path, size, sha256, chunkSize),
            (AirlockEndpoints.DepositTokenHeader, depositToken), cancellationToken).ConfigureAwait(false);
        return node.Deserialize<UploadStatusView>(Json)!;
    }

    public async Task PutChunkAsync(string depositToken, string uploadId, long index, ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"airlock/deposit/uploads/{uploadId}/chunks/{index}")
        {
            Content = new ReadOnlyMemoryContent(chunk),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.TryAddWithoutValidation(AirlockEndpoints.DepositTokenHeader, depositToken);
        request.Headers.TryAddWithoutValidation(AirlockEndpoints.ChunkSha256Header, Convert.ToHexStringLower(SHA256.HashData(chunk.Span)));
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ReadAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams a response body to <paramref name="destination"/>, reporting bytes as they arrive.</summary>
    public async Task DownloadAsync(string path, (string Name, string Value) header, Stream destination, Action<long, long?> progress, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            await ReadAsync(response, cancellationToken).ConfigureAwait(false);
        }
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            progress(read, response.Content.Headers.ContentLength);
        }
    }

    public async Task<JsonNode> PutFileAsync(string path, FileInfo file, string sha256, CancellationToken cancellationToken)
    {
        await using var stream = file.OpenRead();
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StreamContent(stream) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentLength = file.Length;
        request.Headers.TryAddWithoutValidation(AirlockEndpoints.ContentSha256Header, sha256);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        JsonNode? node = null;
        try
        {
            node = string.IsNullOrWhiteSpace(text) ? new JsonObject() : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
        }
        if (!response.IsSuccessStatusCode)
        {
            var detail = node?["detail"]?.GetValue<string>() ?? node?["title"]?.GetValue<string>() ?? text;
            throw new AirlockClientException($"{(int)response.StatusCode} {response.ReasonPhrase}: {detail}");
        }
        return node ?? new JsonObject();
    }

    public static async Task<string> Sha256Async(FileInfo file, CancellationToken cancellationToken)
    {
        await using var stream = file.OpenRead();
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    public void Dispose() => http.Dispose();
}
