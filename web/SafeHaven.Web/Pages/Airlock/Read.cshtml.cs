using System.Text;
using Microsoft.AspNetCore.Mvc;
using SafeHaven.Airlock.Submissions;

namespace SafeHaven.Web.Pages.Airlock;

/// <summary>How a file is shown in the browser.</summary>
public enum FileShape
{
    Text,
    Table,
    Image,
    Download,
}

/// <summary>
/// One file of a submission read in the browser, by the same rule as the API's files endpoint (the workflow's
/// <c>OpenFileAsync</c>: the required reviewers in review, the project's members once approved): text rendered as
/// escaped text, CSV as an escaped table, PNG/JPEG/GIF/WebP inline (with their own content type, only when the bytes
/// say so, and <c>nosniff</c>), anything else a download. A refusal answers 403 with the workflow's reason.
/// </summary>
public sealed class ReadModel(AirlockWorkflow workflow) : SafeHavenPage
{
    /// <summary>The most shown in the page; the rest is a download.</summary>
    public const int ShownBytes = 512 * 1024;

    public const int ShownRows = 1000;

    public string Id { get; private set; } = "";

    public string Path { get; private set; } = "";

    public long Size { get; private set; }

    public string Sha256 { get; private set; } = "";

    public FileShape Shape { get; private set; }

    public string Text { get; private set; } = "";

    public IReadOnlyList<IReadOnlyList<string>> Rows { get; private set; } = [];

    public bool Truncated { get; private set; }

    public string? Refused { get; private set; }

    public string RawUrl(string handler) => $"/airlock/submissions/{Id}/files?handler={handler}&path={Uri.EscapeDataString(Path)}";

    public async Task<IActionResult> OnGetAsync(string id, string? path, CancellationToken cancellationToken)
    {
        Id = id;
        Path = path ?? "";
        VolumeFileOpen opened;
        try
        {
            opened = await OpenAsync(id, Path, cancellationToken);
        }
        catch (AirlockWorkflowException e) when (e.Error != AirlockError.NotFound)
        {
            Refused = AirlockWords.Refusal(e);
            Response.StatusCode = AirlockErrors.StatusOf(e.Error);
            return Page();
        }
        catch (AirlockWorkflowException)
        {
            return NotFound();
        }
        await using var content = opened.Content;
        Size = opened.Size;
        Sha256 = opened.Sha256;
        var head = new byte[(int)Math.Min(Size, ShownBytes)];
        await content.ReadExactlyAsync(head, cancellationToken);
        Truncated = Size > head.Length;
        Shape = ShapeOf(Path, head);
        if (Shape is FileShape.Text or FileShape.Table)
        {
            Text = new UTF8Encoding(false, throwOnInvalidBytes: false).GetString(head);
            if (Shape == FileShape.Table)
            {
                var rows = Csv.Parse(Text, Path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',', ShownRows + 1);
                Truncated |= rows.Count > ShownRows;
                Rows = rows.Take(ShownRows).ToList();
            }
        }
        return Page();
    }

    /// <summary>The image itself, for the page's <c>&lt;img&gt;</c>: only when its bytes are one of the inline formats.</summary>
    public async Task<IActionResult> OnGetImageAsync(string id, string? path, CancellationToken cancellationToken)
    {
        var opened = await TryOpenAsync(id, path, cancellationToken);
        if (opened is null)
        {
            return Forbid(Identity.WebAuthentication.CookieScheme);
        }
        string? type;
        await using (opened.Content)
        {
            var head = new byte[16];
            var read = await opened.Content.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
            type = ImageType(head.AsSpan(0, read));
        }
        if (type is null || await TryOpenAsync(id, path, cancellationToken) is not { } image)
        {
            return NotFound();
        }
        Headers();
        return File(image.Content, type);
    }

    /// <summary>The file as a download (<c>application/octet-stream</c>, attachment): never rendered by the browser.</summary>
    public async Task<IActionResult> OnGetDownloadAsync(string id, string? path, CancellationToken cancellationToken)
    {
        var opened = await TryOpenAsync(id, path, cancellationToken);
        if (opened is null)
        {
            return Forbid(Identity.WebAuthentication.CookieScheme);
        }
        Headers();
        Response.Headers["X-Content-SHA256"] = opened.Sha256;
        return File(opened.Content, "application/octet-stream", System.IO.Path.GetFileName(path ?? "file"));
    }

    private void Headers()
    {
        Response.Headers.XContentTypeOptions = "nosniff";
        Response.Headers.CacheControl = "no-store";
    }

    private sealed record VolumeFileOpen(long Size, string Sha256, Stream Content);

    private async Task<VolumeFileOpen> OpenAsync(string id, string path, CancellationToken cancellationToken)
    {
        var (file, content) = await workflow.OpenFileAsync(Caller, id, path, cancellationToken);
        return new VolumeFileOpen(file.Size, file.Sha256.Hex, content);
    }

    private async Task<VolumeFileOpen?> TryOpenAsync(string id, string? path, CancellationToken cancellationToken)
    {
        try
        {
            return await OpenAsync(id, path ?? "", cancellationToken);
        }
        catch (AirlockWorkflowException)
        {
            return null;
        }
    }

    private static readonly string[] TextExtensions =
        [".txt", ".md", ".log", ".py", ".r", ".rmd", ".sh", ".sql", ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".do", ".sas", ".m", ".jl", ".ipynb", ".xml", ".html", ".tex"];

    public static FileShape ShapeOf(string path, ReadOnlySpan<byte> head)
    {
        if (ImageType(head) is not null)
        {
            return FileShape.Image;
        }
        if (head.Contains((byte)0) || !IsUtf8(head))
        {
            return FileShape.Download;
        }
        var extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return extension is ".csv" or ".tsv" ? FileShape.Table
            : TextExtensions.Contains(extension) || extension.Length == 0 ? FileShape.Text
            : FileShape.Download;
    }

    /// <summary>Valid UTF-8, allowing a character cut off at the end of what was read.</summary>
    private static bool IsUtf8(ReadOnlySpan<byte> head)
    {
        for (var cut = 0; cut < 4 && cut <= head.Length; cut++)
        {
            if (System.Text.Unicode.Utf8.IsValid(head[..^cut]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The content type of a PNG, JPEG, GIF or WebP by its magic bytes (never SVG: it can carry script).</summary>
    public static string? ImageType(ReadOnlySpan<byte> head) =>
        head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]) ? "image/png"
        : head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "image/jpeg"
        : head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8) ? "image/gif"
        : head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8) ? "image/webp"
        : null;
}

/// <summary>A small RFC 4180 reader for showing a CSV file as a table (quoted fields, doubled quotes, CRLF or LF).</summary>
public static class Csv
{
    public static List<List<string>> Parse(string text, char separator, int maxRows)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length && rows.Count < maxRows; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == separator)
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else
            {
                field.Append(c);
            }
        }
        if ((field.Length > 0 || row.Count > 0) && rows.Count < maxRows)
        {
            row.Add(field.ToString());
            rows.Add(row);
        }
        return rows;
    }
}
