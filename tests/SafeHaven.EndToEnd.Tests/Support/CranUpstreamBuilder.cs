using System.Globalization;
using System.Net;
using System.Text;

namespace SafeHaven.EndToEnd.Tests.Support;

/// <summary>
/// A tiny R package to build: what its DESCRIPTION says, and when it was published. By default it is dated the
/// way CRAN dates it: <c>Date/Publication</c> in its DESCRIPTION, a row in <c>web/packages/packages.rds</c>
/// (current versions) or a file time in <c>src/contrib/Meta/archive.rds</c> (archived ones). Each can be left
/// out to imitate an upstream that dates it less well.
/// </summary>
public sealed record RPackageSpec(
    string Name, string Version, DateTimeOffset Published, bool Archived = false,
    string? Depends = null, string? Imports = null, string? LinkingTo = null, string? Suggests = null,
    bool InDatabase = true, bool DescriptionDate = true);

/// <summary>
/// Builds a static upstream laid out like CRAN from real source packages: each tiny package is made with
/// <c>R CMD build</c> (its DESCRIPTION carrying <c>Date/Publication</c>, as CRAN adds on publication); current
/// versions go to <c>src/contrib/</c>, indexed by <c>tools::write_PACKAGES</c> with its <b>default fields</b>, as
/// CRAN's own <c>PACKAGES</c> is (so no <c>Date/Publication</c> there); older ones go to
/// <c>src/contrib/Archive/&lt;pkg&gt;/</c> with a directory listing page like CRAN's. R itself then writes CRAN's two
/// databases: <c>web/packages/packages.rds</c> (a character matrix, one row per current package, with
/// <c>Date/Publication</c>) and <c>src/contrib/Meta/archive.rds</c> (<c>file.info()</c> of the archived tarballs,
/// after their file times are set to their publication dates, split by package). Left out on purpose: the other
/// columns of CRAN's packages.rds (Title, Author, Maintainer, ... - only <c>PACKAGES</c>' fields are there),
/// binary packages, <c>src/contrib/Meta/current.rds</c> and the web pages.
/// </summary>
public sealed class CranUpstreamBuilder(string root)
{
    public string Root { get; } = root;
    public string Contrib => Path.Combine(Root, "src", "contrib");

    public static Dictionary<string, string?> REnvironment(string? libraries = null) => new()
    {
        ["R_LIBS"] = libraries ?? "",
        ["R_LIBS_USER"] = libraries ?? "",
        ["R_LIBS_SITE"] = "",
        ["R_PROFILE_USER"] = "/dev/null",
        ["R_ENVIRON_USER"] = "/dev/null",
        ["http_proxy"] = null,
        ["https_proxy"] = null,
        ["HTTP_PROXY"] = null,
        ["HTTPS_PROXY"] = null,
        ["no_proxy"] = "127.0.0.1,localhost",
        ["LANG"] = "C.UTF-8",
        ["LC_ALL"] = "C.UTF-8",
    };

    public static string FormatDate(DateTimeOffset date) => date.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    public async Task BuildAsync(IReadOnlyList<RPackageSpec> packages)
    {
        Directory.CreateDirectory(Contrib);
        var sources = Directory.CreateTempSubdirectory("safehaven-r-src-").FullName;
        try
        {
            foreach (var spec in packages)
            {
                var built = Path.Combine(sources, "out-" + spec.Name + "-" + spec.Version);
                Directory.CreateDirectory(built);
                var source = Path.Combine(sources, spec.Name + "-" + spec.Version, spec.Name);
                WriteSource(source, spec);
                await ProcessRunner.RunCheckedAsync("R", ["CMD", "build", "--no-build-vignettes", "--no-manual", "--no-resave-data", source],
                    workingDirectory: built, environment: REnvironment(), timeout: TimeSpan.FromMinutes(2));
                var tarball = Path.Combine(built, $"{spec.Name}_{spec.Version}.tar.gz");
                var destination = spec.Archived ? Path.Combine(Contrib, "Archive", spec.Name) : Contrib;
                Directory.CreateDirectory(destination);
                File.Move(tarball, Path.Combine(destination, Path.GetFileName(tarball)));
            }
        }
        finally
        {
            Directory.Delete(sources, recursive: true);
        }
        // The dates R writes into the databases: current versions to packages.rds, archived tarballs' file times.
        var dates = Path.Combine(Root, "dates.tsv");
        File.WriteAllLines(dates, packages.Where(p => p.InDatabase).Select(p =>
            $"{(p.Archived ? "archive" : "current")}\t{p.Name}\t{p.Version}\t{p.Published.ToUnixTimeSeconds()}"));
        const string script = """
            dates <- read.delim(commandArgs(TRUE)[1], header = FALSE, col.names = c("kind", "package", "version", "time"), colClasses = "character")
            # PACKAGES as CRAN writes it: write_PACKAGES with its default fields.
            tools::write_PACKAGES(".", type = "source")
            # web/packages/packages.rds: a character matrix with Date/Publication for every current package listed.
            db <- read.dcf("PACKAGES")
            current <- dates[dates$kind == "current", ]
            key <- paste(db[, "Package"], db[, "Version"])
            at <- match(key, paste(current$package, current$version))
            published <- format(as.POSIXct(as.numeric(current$time[at]), origin = "1970-01-01", tz = "UTC"), "%Y-%m-%d %H:%M:%S UTC")
            db <- cbind(db, "Date/Publication" = published)[!is.na(at), , drop = FALSE]
            dir.create("../../web/packages", recursive = TRUE, showWarnings = FALSE)
            saveRDS(db, "../../web/packages/packages.rds")
            # src/contrib/Meta/archive.rds: file.info() of the archived tarballs, their times set first, by package.
            archived <- dates[dates$kind == "archive", ]
            if (nrow(archived) > 0 && dir.exists("Archive")) {
              files <- file.path(archived$package, paste0(archived$package, "_", archived$version, ".tar.gz"))
              for (i in seq_along(files)) {
                Sys.setFileTime(file.path("Archive", files[i]), as.POSIXct(as.numeric(archived$time[i]), origin = "1970-01-01", tz = "UTC"))
              }
              info <- file.info(file.path("Archive", files))
              rownames(info) <- files
              dir.create("Meta", showWarnings = FALSE)
              saveRDS(split(info, archived$package), "Meta/archive.rds")
            }
            """;
        await ProcessRunner.RunCheckedAsync("Rscript", ["--vanilla", "-e", script, dates],
            workingDirectory: Contrib, environment: REnvironment(), timeout: TimeSpan.FromMinutes(2));
        File.Delete(dates);
        foreach (var archive in Directory.Exists(Path.Combine(Contrib, "Archive")) ? Directory.GetDirectories(Path.Combine(Contrib, "Archive")) : [])
        {
            WriteListing(archive);
        }
    }

    private static void WriteSource(string directory, RPackageSpec spec)
    {
        Directory.CreateDirectory(Path.Combine(directory, "R"));
        var description = new StringBuilder();
        description.Append(CultureInfo.InvariantCulture, $"""
            Package: {spec.Name}
            Version: {spec.Version}
            Title: SafeHaven Test Package {spec.Name}
            Description: A tiny package for the SafeHaven end-to-end tests.
            Authors@R: person("Safe", "Haven", email = "tests@example.org", role = c("aut", "cre"))
            License: MIT + file LICENSE
            Encoding: UTF-8

            """);
        void Field(string name, string? value)
        {
            if (value is not null)
            {
                description.Append(CultureInfo.InvariantCulture, $"{name}: {value}\n");
            }
        }
        Field("Depends", spec.Depends);
        Field("Imports", spec.Imports);
        Field("LinkingTo", spec.LinkingTo);
        Field("Suggests", spec.Suggests);
        Field("Date/Publication", spec.DescriptionDate ? FormatDate(spec.Published) : null);
        File.WriteAllText(Path.Combine(directory, "DESCRIPTION"), description.ToString());
        File.WriteAllText(Path.Combine(directory, "LICENSE"), "YEAR: 2026\nCOPYRIGHT HOLDER: SafeHaven tests\n");
        var function = spec.Name + "_version";
        File.WriteAllText(Path.Combine(directory, "R", spec.Name + ".R"), $"{function} <- function() \"{spec.Version}\"\n");
        File.WriteAllText(Path.Combine(directory, "NAMESPACE"), $"export({function})\n");
        if (spec.Name.Contains("link", StringComparison.Ordinal))
        {
            // A LinkingTo target ships C headers only.
            Directory.CreateDirectory(Path.Combine(directory, "inst", "include"));
            File.WriteAllText(Path.Combine(directory, "inst", "include", spec.Name + ".h"), "#define SHLINK_VERSION 1\n");
        }
    }

    /// <summary>A directory listing page like the one CRAN's web server writes for <c>src/contrib/Archive/&lt;pkg&gt;/</c>.</summary>
    private static void WriteListing(string directory)
    {
        var html = new StringBuilder("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html><head><title>Index of archive</title></head><body>\n<h1>Index of archive</h1>\n<pre><a href=\"../\">Parent Directory</a>\n");
        foreach (var file in Directory.GetFiles(directory, "*.tar.gz").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            html.Append(CultureInfo.InvariantCulture, $"<a href=\"{WebUtility.HtmlEncode(Uri.EscapeDataString(name))}\">{WebUtility.HtmlEncode(name)}</a>  {new FileInfo(file).Length}\n");
        }
        html.Append("</pre></body></html>\n");
        File.WriteAllText(Path.Combine(directory, "index.html"), html.ToString());
    }

    public string PackageDatabase => Path.Combine(Root, "web", "packages", "packages.rds");
    public string ArchiveDatabase => Path.Combine(Contrib, "Meta", "archive.rds");

    /// <summary>Changes a tarball after indexing, so its MD5 no longer matches <c>PACKAGES</c>.</summary>
    public void Tamper(string fileName)
    {
        using var stream = new FileStream(Path.Combine(Contrib, fileName), FileMode.Append);
        stream.Write("tampered"u8);
    }
}
