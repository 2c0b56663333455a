namespace SafeHaven.Core.Tests.Advisories;

/// <summary>A scratch folder of advisory files, deleted afterwards.</summary>
internal sealed class AdvisoryFolder : IDisposable
{
    public AdvisoryFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "safehaven-osv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public AdvisoryFolder With(string relativePath, string content)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return this;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}

/// <summary>OSV records shaped like the ones the OSV database serves (GitHub advisories and the PyPA database).</summary>
internal static class OsvFixtures
{
    /// <summary>GHSA record: requests leaks Proxy-Authorization (CVE-2023-32681), fixed in 2.31.0.</summary>
    public const string RequestsGhsa = """
        {
          "schema_version": "1.4.0",
          "id": "GHSA-j8r2-6x86-q33q",
          "modified": "2023-11-08T04:12:18.674169Z",
          "published": "2023-05-22T20:36:32Z",
          "aliases": ["CVE-2023-32681", "PYSEC-2023-74"],
          "summary": "Unintended leak of Proxy-Authorization header in requests",
          "details": "Requests has been leaking Proxy-Authorization headers to destination servers during redirects to an HTTPS origin.",
          "severity": [{ "type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N" }],
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "requests", "purl": "pkg:pypi/requests" },
              "ranges": [
                { "type": "ECOSYSTEM", "events": [ { "introduced": "2.3.0" }, { "fixed": "2.31.0" } ] }
              ],
              "database_specific": { "source": "https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/2023/05/GHSA-j8r2-6x86-q33q/GHSA-j8r2-6x86-q33q.json" }
            }
          ],
          "references": [
            { "type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2023-32681" },
            { "type": "PACKAGE", "url": "https://github.com/psf/requests" }
          ],
          "database_specific": { "cwe_ids": ["CWE-200"], "severity": "MODERATE", "github_reviewed": true }
        }
        """;

    /// <summary>PyPA record for the same flaw: a GIT range of commit hashes plus the ECOSYSTEM range.</summary>
    public const string RequestsPysec = """
        {
          "id": "PYSEC-2023-74",
          "published": "2023-05-26T18:15:00Z",
          "modified": "2023-06-05T01:13:00.667Z",
          "aliases": ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
          "details": "Requests is a HTTP library. Since Requests 2.3.0, Requests has been leaking Proxy-Authorization headers.",
          "affected": [
            {
              "package": { "name": "requests", "ecosystem": "PyPI", "purl": "pkg:pypi/requests" },
              "ranges": [
                {
                  "type": "GIT",
                  "repo": "https://github.com/psf/requests",
                  "events": [ { "introduced": "0" }, { "fixed": "74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5" } ]
                },
                { "type": "ECOSYSTEM", "events": [ { "introduced": "2.3.0" }, { "fixed": "2.31.0" } ] }
              ],
              "versions": ["2.3.0", "2.4.0", "2.30.0"]
            }
          ],
          "references": [ { "type": "FIX", "url": "https://github.com/psf/requests/commit/74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5" } ]
        }
        """;

    /// <summary>A Django advisory fixed on three release branches (CVE-2023-46695).</summary>
    public const string DjangoGhsa = """
        {
          "schema_version": "1.4.0",
          "id": "GHSA-qmf9-6jqf-j8fq",
          "modified": "2024-02-16T08:18:38.000Z",
          "published": "2023-11-02T06:30:26Z",
          "aliases": ["CVE-2023-46695"],
          "summary": "Django Denial of service vulnerability in django.contrib.auth.forms.UsernameField on Windows",
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "Django", "purl": "pkg:pypi/django" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "3.2" }, { "fixed": "3.2.23" } ] } ]
            },
            {
              "package": { "ecosystem": "PyPI", "name": "Django", "purl": "pkg:pypi/django" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "4.1" }, { "fixed": "4.1.13" } ] } ]
            },
            {
              "package": { "ecosystem": "PyPI", "name": "Django", "purl": "pkg:pypi/django" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "4.2" }, { "fixed": "4.2.7" } ] } ]
            }
          ]
        }
        """;

    /// <summary>No fix released: only a last_affected bound.</summary>
    public const string LastAffectedOnly = """
        {
          "id": "GHSA-5cpq-8wj7-hf2v",
          "modified": "2023-08-01T00:00:00Z",
          "published": "2023-07-01T00:00:00Z",
          "summary": "Unpatched flaw in zope.interface",
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "zope.interface" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "0" }, { "last_affected": "6.0" } ] } ]
            }
          ]
        }
        """;

    /// <summary>A withdrawn advisory: it must no longer fast-track anything.</summary>
    public const string Withdrawn = """
        {
          "id": "GHSA-xxxx-withdrawn-1",
          "modified": "2024-01-10T00:00:00Z",
          "published": "2023-12-01T00:00:00Z",
          "withdrawn": "2024-01-10T00:00:00Z",
          "summary": "Withdrawn: not a vulnerability",
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "urllib3" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "0" }, { "fixed": "2.0.7" } ] } ]
            }
          ]
        }
        """;

    /// <summary>A NuGet advisory (SEMVER range), CVE-2021-26701.</summary>
    public const string NuGetGhsa = """
        {
          "id": "GHSA-ghhp-997w-qr28",
          "modified": "2023-02-01T00:00:00Z",
          "published": "2021-02-10T00:00:00Z",
          "aliases": ["CVE-2021-26701"],
          "affected": [
            {
              "package": { "ecosystem": "NuGet", "name": "System.Text.Encodings.Web" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "5.0.0" }, { "fixed": "5.0.1" } ] } ]
            }
          ]
        }
        """;

    /// <summary>An OpenSSF malicious-packages record listing versions (shape of ossf/malicious-packages osv/malicious/pypi/...).</summary>
    public const string MaliciousVersions = """
        {
          "modified": "2024-03-01T10:00:00Z",
          "published": "2024-03-01T10:00:00Z",
          "schema_version": "1.5.0",
          "id": "MAL-2024-1234",
          "summary": "Malicious code in requestz (PyPI)",
          "details": "The package steals credentials from the environment.",
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "Requestz" },
              "versions": ["1.0.1", "1.0.2"],
              "database_specific": { "malicious-packages-origins": [ { "source": "ghsa-malware", "id": "GHSA-xxxx-yyyy-zzzz" } ] }
            }
          ],
          "database_specific": { "malicious-packages-origins": [] }
        }
        """;

    /// <summary>A malicious-packages record with a range only: from 2.0 up to (not including) 2.3.</summary>
    public const string MaliciousRange = """
        {
          "id": "MAL-2024-5678",
          "modified": "2024-03-02T10:00:00Z",
          "summary": "Malicious code in colourama (PyPI)",
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "colourama" },
              "ranges": [ { "type": "ECOSYSTEM", "events": [ { "introduced": "2.0" }, { "fixed": "2.3" } ] } ]
            }
          ]
        }
        """;

    /// <summary>A malicious-packages record for the whole package: introduced 0 and nothing after.</summary>
    public const string MaliciousWholePackage = """
        {
          "id": "MAL-2023-42",
          "modified": "2023-05-02T10:00:00Z",
          "summary": "Malicious code in evil-pkg (PyPI)",
          "affected": [
            {
              "package": { "ecosystem": "PyPI", "name": "evil_pkg" },
              "ranges": [ { "type": "SEMVER", "events": [ { "introduced": "0" } ] } ]
            }
          ]
        }
        """;
}
