using System.Text;

namespace SafeHaven.Core.OpenPgp;

/// <summary>
/// The OpenPGP cleartext signature framework (RFC 4880 section 7), parsed strictly: the message header first
/// (only blank lines before it), only <c>Hash:</c> armour headers, every text line that starts with a dash
/// dash-escaped, exactly one signature block, and nothing but whitespace after it. Anything else is refused:
/// unsigned data next to signed data is how a man in the middle smuggles lines past a verifier
/// (apt refuses it too).
/// </summary>
internal sealed class ClearSignedMessage
{
    internal const string MessageHeader = "-----BEGIN PGP SIGNED MESSAGE-----";
    internal const string SignatureHeader = "-----BEGIN PGP SIGNATURE-----";
    internal const string SignatureFooter = "-----END PGP SIGNATURE-----";

    private ClearSignedMessage(byte[] text, byte[] canonicalText, IReadOnlyList<string>? hashHeader, byte[] signatureBlock)
    {
        Text = text;
        CanonicalText = canonicalText;
        HashHeader = hashHeader;
        SignatureBlock = signatureBlock;
    }

    /// <summary>
    /// The dash-unescaped text as signed: trailing spaces and tabs removed from each line (the signature does not
    /// cover them; gpgv --output removes them too), lines joined by LF, no line break after the last line.
    /// </summary>
    internal byte[] Text { get; }

    /// <summary>What the signature covers: trailing spaces and tabs removed from each line, lines joined by CRLF.</summary>
    internal byte[] CanonicalText { get; }

    /// <summary>The digests named by the <c>Hash:</c> headers, or null when there is none.</summary>
    internal IReadOnlyList<string>? HashHeader { get; }

    /// <summary>The armoured signature, from its BEGIN line to its END line.</summary>
    internal byte[] SignatureBlock { get; }

    internal static (ClearSignedMessage? Message, OpenPgpVerification? Failure) Parse(byte[] bytes)
    {
        var lines = SplitLines(bytes);
        var i = 0;
        while (i < lines.Count && IsBlank(bytes, lines[i]))
            i++;
        if (i == lines.Count)
            return Fail(OpenPgpFailureKind.NoSignature, "no signature: the file is empty");
        if (LineText(bytes, lines[i]) != MessageHeader)
        {
            var later = lines.Skip(i + 1).Any(l => LineText(bytes, l) == MessageHeader);
            return later
                ? Fail(OpenPgpFailureKind.TrailingData, $"trailing data: line {i + 1} comes before '{MessageHeader}' and is outside the signed part")
                : Fail(OpenPgpFailureKind.NoSignature, $"no signature: not a cleartext-signed message (it does not begin with '{MessageHeader}')");
        }
        i++;

        List<string>? hashes = null;
        for (; ; i++)
        {
            if (i == lines.Count)
                return Fail(OpenPgpFailureKind.Malformed, "malformed: the cleartext header has no blank line after it");
            var header = LineText(bytes, lines[i]);
            if (header.Length == 0)
            {
                i++;
                break;
            }
            if (!header.StartsWith("Hash: ", StringComparison.Ordinal))
                return Fail(OpenPgpFailureKind.Malformed, $"malformed: line {i + 1} ('{Truncate(header)}') is not a 'Hash:' armour header, the only one a cleartext signature may carry");
            hashes ??= [];
            hashes.AddRange(header["Hash: ".Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }

        using var text = new MemoryStream();
        using var canonical = new MemoryStream();
        var first = true;
        for (; ; i++)
        {
            if (i == lines.Count)
                return Fail(OpenPgpFailureKind.NoSignature, $"no signature: the signed message has no '{SignatureHeader}' block");
            var (start, length) = lines[i];
            if (length > 0 && bytes[start] == (byte)'-')
            {
                if (length >= 2 && bytes[start + 1] == (byte)' ')
                {
                    start += 2;
                    length -= 2;
                }
                else if (LineText(bytes, lines[i]) == SignatureHeader)
                {
                    break;
                }
                else
                {
                    return Fail(OpenPgpFailureKind.Malformed,
                        $"malformed: line {i + 1} ('{Truncate(LineText(bytes, lines[i]))}') starts with a dash but is not dash-escaped");
                }
            }
            if (Array.IndexOf(bytes, (byte)'\r', start, length) >= 0)
                return Fail(OpenPgpFailureKind.Malformed, $"malformed: line {i + 1} holds a bare carriage return");
            if (!first)
            {
                text.WriteByte((byte)'\n');
                canonical.Write("\r\n"u8);
            }
            first = false;
            var trimmed = length;
            while (trimmed > 0 && bytes[start + trimmed - 1] is (byte)' ' or (byte)'\t')
                trimmed--;
            text.Write(bytes, start, trimmed);
            canonical.Write(bytes, start, trimmed);
        }

        var sigStart = lines[i].Start;
        var end = -1;
        for (var j = i + 1; j < lines.Count; j++)
        {
            var line = LineText(bytes, lines[j]);
            if (line == SignatureFooter)
            {
                end = j;
                break;
            }
            if (line.StartsWith("-----", StringComparison.Ordinal))
                return Fail(OpenPgpFailureKind.Malformed, $"malformed: line {j + 1} ('{Truncate(line)}') inside the signature block");
        }
        if (end < 0)
            return Fail(OpenPgpFailureKind.Malformed, $"malformed: the signature block has no '{SignatureFooter}' line");
        for (var j = end + 1; j < lines.Count; j++)
        {
            if (!IsBlank(bytes, lines[j]))
                return Fail(OpenPgpFailureKind.TrailingData,
                    $"trailing data: line {j + 1} ('{Truncate(LineText(bytes, lines[j]))}') comes after '{SignatureFooter}' and is outside the signed part");
        }
        var sigEnd = lines[end].Start + lines[end].Length;
        var block = new byte[sigEnd - sigStart + 1];
        Array.Copy(bytes, sigStart, block, 0, sigEnd - sigStart);
        block[^1] = (byte)'\n';
        return (new ClearSignedMessage(text.ToArray(), canonical.ToArray(), hashes, block), null);
    }

    /// <summary>
    /// An ASCII-armoured detached signature (a <c>Release.gpg</c>): exactly one <c>BEGIN PGP SIGNATURE</c> block,
    /// only whitespace around it.
    /// </summary>
    internal static byte[]? ExtractArmouredSignature(byte[] bytes, int start, out OpenPgpVerification? failure)
    {
        failure = null;
        var lines = SplitLines(bytes);
        var i = 0;
        while (i < lines.Count && lines[i].Start < start)
            i++;
        var first = LineText(bytes, lines[i]);
        if (first != SignatureHeader)
        {
            failure = OpenPgpVerification.Refused(OpenPgpFailureKind.NoSignature,
                $"no signature: the armour begins with '{Truncate(first)}', not '{SignatureHeader}'");
            return null;
        }
        var end = -1;
        for (var j = i + 1; j < lines.Count; j++)
        {
            if (LineText(bytes, lines[j]) == SignatureFooter)
            {
                end = j;
                break;
            }
        }
        if (end < 0)
        {
            failure = OpenPgpVerification.Refused(OpenPgpFailureKind.Malformed, $"malformed: the signature has no '{SignatureFooter}' line");
            return null;
        }
        for (var j = end + 1; j < lines.Count; j++)
        {
            if (!IsBlank(bytes, lines[j]))
            {
                failure = OpenPgpVerification.Refused(OpenPgpFailureKind.TrailingData,
                    $"trailing data: line {j + 1} comes after '{SignatureFooter}'");
                return null;
            }
        }
        var sigEnd = lines[end].Start + lines[end].Length;
        var block = new byte[sigEnd - lines[i].Start + 1];
        Array.Copy(bytes, lines[i].Start, block, 0, sigEnd - lines[i].Start);
        block[^1] = (byte)'\n';
        return block;
    }

    /// <summary>Lines split at LF; a CR right before the LF (or at the very end) is not part of the line.</summary>
    private static List<(int Start, int Length)> SplitLines(byte[] bytes)
    {
        var lines = new List<(int, int)>();
        var start = 0;
        while (start < bytes.Length)
        {
            var lf = Array.IndexOf(bytes, (byte)'\n', start);
            var end = lf < 0 ? bytes.Length : lf;
            var length = end - start;
            if (length > 0 && bytes[start + length - 1] == (byte)'\r')
                length--;
            lines.Add((start, length));
            start = lf < 0 ? bytes.Length : lf + 1;
        }
        return lines;
    }

    private static bool IsBlank(byte[] bytes, (int Start, int Length) line)
    {
        for (var k = 0; k < line.Length; k++)
        {
            if (!OpenPgpKeyring.IsWhitespace(bytes[line.Start + k]))
                return false;
        }
        return true;
    }

    private static string LineText(byte[] bytes, (int Start, int Length) line) =>
        Encoding.UTF8.GetString(bytes, line.Start, line.Length);

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "...";

    private static (ClearSignedMessage?, OpenPgpVerification?) Fail(OpenPgpFailureKind kind, string message) =>
        (null, OpenPgpVerification.Refused(kind, message));
}
