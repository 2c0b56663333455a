using System.Text;

namespace SafeHaven.Core.Packages;

/// <summary>Package-name normalisation rules shared by every part of the appliance.</summary>
public static class PackageName
{
    /// <summary>
    /// PEP 503 normalisation: runs of '-', '_' and '.' become one '-', and the name is lower-cased
    /// (Python's <c>re.sub(r"[-_.]+", "-", name).lower()</c>).
    /// </summary>
    public static string NormalizePyPI(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (IsPlainNormalized(name))
        {
            return name;
        }
        var builder = new StringBuilder(name.Length);
        var inSeparator = false;
        foreach (var c in name)
        {
            if (c is '-' or '_' or '.')
            {
                if (!inSeparator)
                {
                    builder.Append('-');
                    inSeparator = true;
                }
                continue;
            }
            inSeparator = false;
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }

    /// <summary>Lower-case letters, digits and single '-' only: already normalised (the common case, checked without allocating).</summary>
    private static bool IsPlainNormalized(string name)
    {
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '-' ? i > 0 && name[i - 1] == '-' : !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>True when <paramref name="name"/> is already in PEP 503 normal form.</summary>
    public static bool IsNormalizedPyPI(string name) => string.Equals(name, NormalizePyPI(name), StringComparison.Ordinal);

    /// <summary>
    /// A valid PEP 508 project name: ASCII letters and digits, with '.', '_' and '-' inside
    /// (<c>^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$</c>, case-insensitive).
    /// </summary>
    public static bool IsValidPyPI(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return false;
        }
        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }
        return true;
    }
}
