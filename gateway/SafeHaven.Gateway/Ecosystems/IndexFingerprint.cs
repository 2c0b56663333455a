using System.Security.Cryptography;
using System.Text;

namespace SafeHaven.Gateway.Ecosystems;

/// <summary>
/// The SHA-256 of lines, each ended by a newline: what a whole-index mirror (apt, conda) compares to tell whether what
/// it would publish changed, so an index is rendered, compressed and signed once per change, not once per refresh.
/// </summary>
public static class IndexFingerprint
{
    public static string Of(IEnumerable<string> lines)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var line in lines)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(line + "\n"));
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }
}
