using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using SafeHaven.Core.Storage.Database;

namespace SafeHaven.Web.Identity;

/// <summary>
/// The data protection key ring in the appliance's database, so every replica protects and unprotects with the same
/// keys: a session cookie, an anti-forgery token or a protected session row written by one replica is read by any
/// other. Keys are stored as the framework writes them (not encrypted at rest, as with the file system repository
/// before): the database is the appliance's secret store, like the data directory was.
/// </summary>
internal sealed class DatabaseXmlRepository(SafeHavenDatabase database) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var connection = database.Open();
        return connection.Query<string>("SELECT xml FROM web_data_protection_keys ORDER BY created_at, name")
            .Select(xml => XElement.Parse(xml))
            .ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        var name = string.IsNullOrWhiteSpace(friendlyName) ? Guid.NewGuid().ToString("N") : friendlyName;
        using var connection = database.Open();
        // A key is never replaced: the framework names each one uniquely (key-<guid>, revocation-<time>).
        connection.Execute("INSERT INTO web_data_protection_keys (name, xml, created_at) VALUES (@name, @xml, @at) ON CONFLICT (name) DO NOTHING",
            new { name, xml = element.ToString(SaveOptions.DisableFormatting), at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
    }
}
