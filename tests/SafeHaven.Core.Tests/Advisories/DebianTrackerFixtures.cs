namespace SafeHaven.Core.Tests.Advisories;

/// <summary>
/// Imitates the Debian security tracker's JSON export (the document the tracker serves at <c>/tracker/data/json</c>):
/// an object keyed by <b>source</b> package, then by CVE/DSA/TEMP id, each entry with an optional <c>description</c>,
/// <c>scope</c> and (numeric) <c>debianbug</c>, and <c>releases</c> keyed by codename with <c>status</c>,
/// <c>repositories</c> (suite → version), an optional <c>fixed_version</c>, <c>urgency</c> and sometimes
/// <c>nodsa</c>/<c>nodsa_reason</c>. It is in the least complete shape the real export has: entries with no
/// <c>description</c>, <c>scope</c> or <c>debianbug</c>; <c>open</c> and <c>undetermined</c> entries without a
/// <c>fixed_version</c>; <c>fixed_version</c> <c>"0"</c> (never affected); a release named by a codename the mirror
/// does not serve. Left out on purpose: the real export's size (about 80 MB; the large-file test generates one) and
/// its thousands of packages.
/// </summary>
internal static class DebianTrackerFixtures
{
    public const string Export = """
        {
          "openssl": {
            "CVE-2024-0727": {
              "scope": "local",
              "debianbug": 1060858,
              "description": "Issue summary: Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash",
              "releases": {
                "bookworm": {
                  "status": "resolved",
                  "repositories": { "bookworm": "3.0.11-1~deb12u2", "bookworm-security": "3.0.13-1~deb12u1" },
                  "fixed_version": "3.0.13-1~deb12u1",
                  "urgency": "not yet assigned"
                },
                "bullseye": {
                  "status": "resolved",
                  "repositories": { "bullseye": "1.1.1w-0+deb11u1" },
                  "fixed_version": "1.1.1w-0+deb11u2",
                  "urgency": "not yet assigned",
                  "nodsa": "Minor issue",
                  "nodsa_reason": ""
                },
                "sid": {
                  "status": "resolved",
                  "repositories": { "sid": "3.1.5-1" },
                  "fixed_version": "3.1.5-1",
                  "urgency": "not yet assigned"
                }
              }
            },
            "CVE-2023-5678": {
              "releases": {
                "bookworm": {
                  "status": "resolved",
                  "repositories": { "bookworm": "3.0.11-1~deb12u2" },
                  "fixed_version": "3.0.11-1~deb12u2",
                  "urgency": "not yet assigned"
                }
              }
            }
          },
          "hello": {
            "TEMP-0000000-1A2B3C": {
              "description": "open issue, no fix anywhere",
              "releases": {
                "bookworm": { "status": "open", "repositories": { "bookworm": "2.10-3" }, "urgency": "unimportant" },
                "trixie": { "status": "undetermined", "repositories": { "trixie": "2.10-3" }, "urgency": "not yet assigned" }
              }
            }
          },
          "zlib": {
            "CVE-2018-25032": {
              "scope": "remote",
              "releases": {
                "bookworm": { "status": "resolved", "repositories": { "bookworm": "1:1.2.13.dfsg-1" }, "fixed_version": "0", "urgency": "not yet assigned" },
                "future-codename": { "status": "resolved", "repositories": {}, "fixed_version": "1:1.3-1", "urgency": "low" }
              }
            }
          },
          "curl": {
            "CVE-2024-2398": {
              "releases": {
                "bookworm": { "status": "resolved", "repositories": { "bookworm": "7.88.1-10+deb12u5" }, "urgency": "not yet assigned" }
              }
            }
          }
        }
        """;
}
