using System.Diagnostics;
using System.IO.Compression;
using SafeHaven.Gateway.Ecosystems.Cran.Rds;

namespace SafeHaven.Gateway.Tests.Ecosystems.Cran.Rds;

/// <summary>
/// Files written by R itself (<c>Rscript -e 'saveRDS(...)'</c>) once for the test class: a character matrix shaped
/// like CRAN's <c>web/packages/packages.rds</c>, a named list of <c>file.info()</c> data frames like
/// <c>src/contrib/Meta/archive.rds</c>, and a few objects that exercise the reference table, ALTREP compact
/// sequences, compact row names and string encodings; each in format versions 2 and 3, gzip-compressed and not.
/// </summary>
public sealed class RFiles : IDisposable
{
    public static readonly DateTimeOffset ArchivedMtime = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public RFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("safehaven-rds-").FullName;
        const string script = """
            d <- commandArgs(TRUE)[1]
            db <- cbind(Package = c("alpha", "beta", "gamma"), Version = c("1.0", "2.0-1", "0.3"),
                        Depends = c("R (>= 3.5)", NA, NA),
                        "Date/Publication" = c("2024-01-15 10:20:03 UTC", "2023-12-01 08:00:00 UTC", NA))
            arch <- file.path(tempdir(), "Archive")
            for (f in c("alpha/alpha_0.9.tar.gz", "alpha/alpha_0.8.tar.gz", "beta/beta_1.0.tar.gz")) {
              dir.create(dirname(file.path(arch, f)), recursive = TRUE, showWarnings = FALSE)
              writeLines("x", file.path(arch, f))
              Sys.setFileTime(file.path(arch, f), as.POSIXct("2024-01-02 03:04:05", tz = "UTC"))
            }
            files <- c("alpha/alpha_0.9.tar.gz", "alpha/alpha_0.8.tar.gz", "beta/beta_1.0.tar.gz")
            info <- file.info(file.path(arch, files))
            rownames(info) <- files
            archive <- split(info, sub("/.*", "", files))
            misc <- list(seq = 1:10, syms = list(quote(a), quote(a), as.name("b")),
                         df = data.frame(x = c(1.5, NA), y = c("a", NA), stringsAsFactors = FALSE),
                         utf8 = enc2utf8("caf\u00e9"), latin1 = iconv("caf\u00e9", "UTF-8", "latin1"),
                         lgl = c(TRUE, FALSE, NA), int = c(1L, NA_integer_), cplx = 1+2i, raw = as.raw(c(1, 255)),
                         nul = NULL, pl = pairlist(a = 1, b = "x"))
            for (v in 2:3) for (z in c(TRUE, FALSE)) {
              suffix <- paste0("_v", v, if (z) "_gz" else "")
              saveRDS(db, file.path(d, paste0("packages", suffix, ".rds")), version = v, compress = z)
              saveRDS(archive, file.path(d, paste0("archive", suffix, ".rds")), version = v, compress = z)
              saveRDS(misc, file.path(d, paste0("misc", suffix, ".rds")), version = v, compress = z)
            }
            dup <- rbind(db, c("beta", "2.0-1", NA, "2023-12-02 08:00:00 UTC"), c("beta", "1.9", NA, "2023-01-01 00:00:00 UTC"))
            saveRDS(dup, file.path(d, "packages_dup.rds"))
            saveRDS(db, file.path(d, "packages_xz.rds"), compress = "xz")
            saveRDS(db, file.path(d, "packages_bzip2.rds"), compress = "bzip2")
            saveRDS(db, file.path(d, "packages_ascii.rds"), ascii = TRUE, compress = FALSE)
            """;
        var info = new ProcessStartInfo("Rscript") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "--vanilla", "-e", script, Directory })
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["LANG"] = "C.UTF-8";
        info.Environment["LC_ALL"] = "C.UTF-8";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("Rscript failed: " + stderr.Result);
        }
    }

    public string Directory { get; }

    public byte[] Read(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class RdsReaderTests(RFiles files) : IClassFixture<RFiles>
{
    public static TheoryData<string> Variants => new() { "_v2", "_v2_gz", "_v3", "_v3_gz" };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Reads_a_character_matrix_like_packages_rds(string variant)
    {
        var matrix = Assert.IsType<RStrings>(RdsReader.Read(files.Read($"packages{variant}.rds")));

        Assert.Equal([3, 4], matrix.Dim);
        var dimnames = Assert.IsType<RList>(matrix.Attribute("dimnames"));
        Assert.IsType<RNull>(dimnames.Values[0]);
        Assert.Equal(new string?[] { "Package", "Version", "Depends", "Date/Publication" }, Assert.IsType<RStrings>(dimnames.Values[1]).Values);
        // Column-major: column 4 (Date/Publication) starts at index 9.
        Assert.Equal(new string?[] { "alpha", "beta", "gamma" }, matrix.Values[..3]);
        Assert.Equal("2.0-1", matrix.Values[4]);
        Assert.Null(matrix.Values[7]);
        Assert.Equal("2024-01-15 10:20:03 UTC", matrix.Values[9]);
        Assert.Null(matrix.Values[11]);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Reads_a_named_list_of_file_info_data_frames_like_archive_rds(string variant)
    {
        var archive = Assert.IsType<RList>(RdsReader.Read(files.Read($"archive{variant}.rds")));

        Assert.Equal(["alpha", "beta"], archive.Names);
        var alpha = Assert.IsType<RList>(archive["alpha"]);
        Assert.True(alpha.Inherits("data.frame"));
        Assert.Equal(["alpha/alpha_0.9.tar.gz", "alpha/alpha_0.8.tar.gz"], alpha.RowNames);
        var mtime = Assert.IsType<RDoubles>(alpha["mtime"]);
        Assert.True(mtime.Inherits("POSIXct"));
        Assert.All(mtime.Values, v => Assert.Equal(RFiles.ArchivedMtime.ToUnixTimeSeconds(), v));
        Assert.Equal(2.0, Assert.IsType<RDoubles>(alpha["size"]).Values[0]);
        Assert.Equal(0, Assert.IsType<RLogicals>(alpha["isdir"]).Values[0]);
        Assert.Equal(["beta/beta_1.0.tar.gz"], Assert.IsType<RList>(archive["beta"]).RowNames);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Reads_references_compact_sequences_row_names_encodings_and_other_vectors(string variant)
    {
        var misc = Assert.IsType<RList>(RdsReader.Read(files.Read($"misc{variant}.rds")));

        Assert.Equal(Enumerable.Range(1, 10), Assert.IsType<RIntegers>(misc["seq"]).Values);
        var symbols = Assert.IsType<RList>(misc["syms"]).Values.Cast<RSymbol>().ToList();
        Assert.Equal(["a", "a", "b"], symbols.Select(s => s.Name));
        Assert.Same(symbols[0], symbols[1]); // the second "a" is a reference to the first
        var frame = Assert.IsType<RList>(misc["df"]);
        Assert.Equal(["1", "2"], frame.RowNames);
        Assert.True(double.IsNaN(Assert.IsType<RDoubles>(frame["x"]).Values[1]));
        Assert.Equal(new string?[] { "a", null }, Assert.IsType<RStrings>(frame["y"]).Values);
        Assert.Equal("café", Assert.IsType<RStrings>(misc["utf8"]).Values[0]);
        Assert.Equal("café", Assert.IsType<RStrings>(misc["latin1"]).Values[0]);
        Assert.Equal([1, 0, RIntegers.NA], Assert.IsType<RLogicals>(misc["lgl"]).Values);
        Assert.Equal([1, RIntegers.NA], Assert.IsType<RIntegers>(misc["int"]).Values);
        Assert.Equal([1.0, 2.0], Assert.IsType<RComplexes>(misc["cplx"]).RealImaginaryPairs);
        Assert.Equal([1, 255], Assert.IsType<RRaw>(misc["raw"]).Values);
        Assert.IsType<RNull>(misc["nul"]);
        var pairs = Assert.IsType<RPairList>(misc["pl"]);
        Assert.Equal(["a", "b"], pairs.Cells.Select(c => c.Tag));
    }

    [Theory]
    [InlineData("packages_xz.rds", "xz-compressed")]
    [InlineData("packages_bzip2.rds", "bzip2-compressed")]
    [InlineData("packages_ascii.rds", "ASCII format")]
    public void Refuses_formats_it_does_not_read_with_a_clear_error(string file, string says)
    {
        var error = Assert.Throws<RdsFormatException>(() => RdsReader.Read(files.Read(file)));
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("packages_v2.rds")]
    [InlineData("archive_v3.rds")]
    [InlineData("misc_v3.rds")]
    public void Every_truncation_of_a_real_file_is_a_format_error(string file)
    {
        var content = files.Read(file);
        for (var length = 0; length < content.Length; length++)
        {
            var error = Assert.Throws<RdsFormatException>(() => RdsReader.Read(content[..length]));
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }
    }

    [Fact]
    public void A_truncated_gzip_file_is_a_format_error()
    {
        var content = files.Read("archive_v3_gz.rds");
        var error = Assert.ThrowsAny<Exception>(() => RdsReader.Read(content[..(content.Length / 2)]));
        Assert.IsType<RdsFormatException>(error);
    }

    [Fact]
    public void An_absurd_length_is_refused_before_anything_is_allocated_for_it()
    {
        // The matrix's STRSXP length (after the 14-byte v2 header and the flags) claims 2^31-1 elements.
        var content = files.Read("packages_v2.rds");
        Assert.Equal(0x10, content[17] & 0xff); // STRSXP flags
        content[18] = 0x7f;
        content[19] = content[20] = content[21] = 0xff;
        var error = Assert.Throws<RdsFormatException>(() => RdsReader.Read(content));
        Assert.Contains("claims 2147483647 elements", error.Message, StringComparison.Ordinal);

        // A long-vector length (-1 then 64 bits).
        var longVector = Header().Concat(Int(16)).Concat(Int(-1)).Concat(Int(0x7fffffff)).Concat(Int(-1)).ToArray();
        Assert.Contains("claims", Assert.Throws<RdsFormatException>(() => RdsReader.Read(longVector)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gzip_bomb_stops_at_the_byte_limit()
    {
        // A valid header then a list of 250,000 integer pairs: 4 MB of serialised data, a few kB gzipped. The
        // list's own length fits the limit; the data behind it does not.
        var pair = Int(13).Concat(Int(2)).Concat(Int(7)).Concat(Int(8)).ToArray();
        var data = Header().Concat(Int(19)).Concat(Int(250_000)).Concat(Enumerable.Repeat(pair, 250_000).SelectMany(b => b)).ToArray();
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }
        var error = Assert.Throws<RdsFormatException>(() => RdsReader.Read(compressed.ToArray(), new RdsLimits { MaximumBytes = 1024 * 1024 }));
        Assert.Matches("exceeds 1048576 bytes|the reader may still read", error.Message);
        Assert.Equal(250_000, Assert.IsType<RList>(RdsReader.Read(compressed.ToArray())).Values.Length);
    }

    [Fact]
    public void Nesting_beyond_the_depth_limit_is_refused()
    {
        var data = Header().Concat(Enumerable.Repeat(Int(19).Concat(Int(1)), 10_000).SelectMany(b => b)).Concat(Int(254)).ToArray();
        var error = Assert.Throws<RdsFormatException>(() => RdsReader.Read(data));
        Assert.Contains("nested more than 128 deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reference_outside_the_table_and_garbage_are_refused()
    {
        var reference = Header().Concat(Int((5 << 8) | 255)).ToArray();
        Assert.Contains("reference 5", Assert.Throws<RdsFormatException>(() => RdsReader.Read(reference)).Message, StringComparison.Ordinal);
        Assert.Contains("not an R serialisation", Assert.Throws<RdsFormatException>(() => RdsReader.Read("<html>not found</html>"u8.ToArray())).Message, StringComparison.Ordinal);
        var version = Header(version: 4).ToArray();
        Assert.Contains("version 4", Assert.Throws<RdsFormatException>(() => RdsReader.Read(version)).Message, StringComparison.Ordinal);
        var unknown = Header().Concat(Int(99)).ToArray();
        Assert.Contains("type 99", Assert.Throws<RdsFormatException>(() => RdsReader.Read(unknown)).Message, StringComparison.Ordinal);
    }

    private static IEnumerable<byte> Header(int version = 2) => "X\n"u8.ToArray().Concat(Int(version)).Concat(Int(0x040202)).Concat(Int(0x020300));

    private static byte[] Int(int value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}
