using System.CommandLine;
using SafeHaven.WhitelistModel.Cli;

namespace SafeHaven.WhitelistModel.Tests.Cli;

public sealed class WhitelistCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safehaven-whitelist-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Exit, string Out, string Err)> Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(WhitelistCommand.Create());
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await root.Parse(["whitelist", .. args]).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void The_command_has_the_four_subcommands()
    {
        var command = WhitelistCommand.Create();
        Assert.Equal("whitelist", command.Name);
        Assert.Equal(["train", "evaluate", "score", "explain"], command.Subcommands.Select(c => c.Name));
    }

    [Fact]
    public async Task Score_writes_one_row_per_input_row_in_order()
    {
        var input = Write("rows.tsv",
            "name\tversion\tversions\tfirst_release\tlast_release\trelease_count\tdownload_rank\thas_source_repo\tsummary\tcomment\n"
            + "zz-new-thing\t0.0.1\t\t2024-05\t2024-05-02\t1\t\tfalse\t\tx\n"
            + "numpy\t2.1.0\t\t2006-12\t2024-08\t120\t9\ttrue\tFundamental package for array computing\ty\n"
            + "reqeusts\t\t99.0.0\t\t\t\t\t\t\tz\n");
        var (exit, output, error) = await Run("score", "--ecosystem", "pypi", "--input", input);
        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal("name\tscore\tdecision\treasons", lines[0]);
        Assert.Equal(["zz-new-thing", "numpy", "reqeusts"], lines.Skip(1).Select(l => l.Split('\t')[0]));
        Assert.All(lines.Skip(1), l => Assert.Equal(4, l.Split('\t').Length));
        Assert.Equal("approve", lines[2].Split('\t')[2]);
        Assert.Equal("reject", lines[3].Split('\t')[2]);
        Assert.Contains("'requests'", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_gives_a_precise_message_and_a_non_zero_exit()
    {
        var noName = Write("noname.tsv", "package\tversion\nx\t1\n");
        var (exit, _, error) = await Run("score", "--input", noName);
        Assert.NotEqual(0, exit);
        Assert.Contains("no 'name' column", error, StringComparison.Ordinal);

        (exit, _, error) = await Run("score", "--input", Path.Combine(_dir, "missing.tsv"));
        Assert.NotEqual(0, exit);
        Assert.Contains("input file not found", error, StringComparison.Ordinal);

        (exit, _, error) = await Run("score", "--ecosystem", "cpan", "--input", noName);
        Assert.NotEqual(0, exit);
        Assert.Contains("unknown ecosystem 'cpan'", error, StringComparison.Ordinal);

        (exit, _, error) = await Run("score", "--ecosystem", "cran", "--input", noName);
        Assert.NotEqual(0, exit);
        Assert.Contains("no whitelist model for ecosystem 'cran'", error, StringComparison.Ordinal);

        var badRank = Write("badrank.tsv", "name\tdownload_rank\nx\tmany\n");
        (exit, _, error) = await Run("score", "--input", badRank);
        Assert.NotEqual(0, exit);
        Assert.Contains("line 2", error, StringComparison.Ordinal);

        (exit, _, error) = await Run("score", "--input", noName, "--model", Path.Combine(_dir, "nope.json"));
        Assert.NotEqual(0, exit);
        Assert.Contains("model file not found", error, StringComparison.Ordinal);

        (exit, _, error) = await Run("train", "--output", Path.Combine(_dir, "m.json"), "--data-dir", _dir);
        Assert.NotEqual(0, exit);
        Assert.Contains("data file not found", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_gives_score_threshold_and_reasons_in_words()
    {
        var (exit, output, _) = await Run("explain", "--name", "reqeusts", "--version", "1.0.0");
        Assert.Equal(0, exit);
        Assert.Contains("reqeusts: score", output, StringComparison.Ordinal);
        Assert.Contains("threshold", output, StringComparison.Ordinal);
        Assert.Contains("pushed down:", output, StringComparison.Ordinal);
        Assert.Contains("one or two edits away from a popular name", output, StringComparison.Ordinal);

        (exit, output, _) = await Run("explain", "--name", "numpy", "--download-rank", "9", "--json");
        Assert.Equal(0, exit);
        Assert.Contains("\"decision\": \"Approve\"", output, StringComparison.Ordinal);

        (exit, _, var error) = await Run("explain");
        Assert.NotEqual(0, exit);
        Assert.Contains("--input FILE or --name NAME", error, StringComparison.Ordinal);
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private const string TwoPackages = "name\tversion\tdownload_rank\nrfc3987\t1.3.8\t2955\npypiwin32\t223\t3914\n";

    [Fact]
    public async Task Without_a_popularity_history_score_and_explain_behave_as_before_with_pypi_v1()
    {
        var input = Write("two.tsv", TwoPackages);
        var v1 = Path.Combine(AppContext.BaseDirectory, "models", "pypi-v1.json");
        var (exit, output, error) = await Run("score", "--input", input, "--as-of", "2026-11-01");
        var explicitV1 = await Run("score", "--input", input, "--as-of", "2026-11-01", "--model", v1);
        Assert.Equal((0, string.Empty), (exit, error));
        Assert.Equal(explicitV1.Out, output);
        Assert.Equal(["reject", "reject"], output.TrimEnd('\n').Split('\n').Skip(1).Select(l => l.Split('\t')[2]));
        var explained = await Run("explain", "--name", "rfc3987", "--version", "1.3.8", "--download-rank", "2955");
        Assert.Contains("(model pypi-v1)", explained.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_popularity_history_score_and_explain_use_pypi_v2_as_of_the_given_date()
    {
        var input = Write("two.tsv", TwoPackages);
        var (exit, output, error) = await Run("score", "--input", input, "--as-of", "2026-11-01", "--popularity-history", Fixture("pypi-top-monthly-excerpt.tsv"));
        Assert.Equal((0, string.Empty), (exit, error));
        Assert.Equal(["approve", "approve"], output.TrimEnd('\n').Split('\n').Skip(1).Select(l => l.Split('\t')[2]));
        var explained = await Run("explain", "--name", "rfc3987", "--version", "1.3.8", "--download-rank", "2955", "--as-of", "2026-11-01",
            "--popularity-history", Fixture("pypi-top-monthly-excerpt.tsv"));
        Assert.Equal(0, explained.Exit);
        Assert.Contains("(model pypi-v2)", explained.Out, StringComparison.Ordinal);
        Assert.Contains("best rank 752", explained.Out, StringComparison.Ordinal);
        // As of 2018-03-01 only the February 2018 list is usable: one month ranked.
        var early = await Run("explain", "--name", "rfc3987", "--version", "1.3.8", "--as-of", "2018-03-01",
            "--popularity-history", Fixture("pypi-top-monthly-excerpt.tsv"));
        Assert.Contains("1 months", early.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_history_model_without_a_history_or_a_missing_history_file_is_refused()
    {
        var input = Write("two.tsv", TwoPackages);
        var v2 = Path.Combine(AppContext.BaseDirectory, "models", "pypi-v2.json");
        var (exit, _, error) = await Run("score", "--input", input, "--model", v2);
        Assert.Equal(WhitelistCommand.BadInput, exit);
        Assert.Contains("pass --popularity-history FILE", error, StringComparison.Ordinal);
        var missing = await Run("score", "--input", input, "--popularity-history", Path.Combine(_dir, "nope.tsv.gz"));
        Assert.Equal(WhitelistCommand.BadInput, missing.Exit);
        Assert.Contains("popularity history file not found", missing.Err, StringComparison.Ordinal);
        var bad = await Run("score", "--input", input, "--popularity-history", Write("bad.tsv", "month\trank\tname\n2020-13\t1\tx\n"));
        Assert.Equal(WhitelistCommand.BadInput, bad.Exit);
        Assert.Contains("line 2", bad.Err, StringComparison.Ordinal);
    }
}
