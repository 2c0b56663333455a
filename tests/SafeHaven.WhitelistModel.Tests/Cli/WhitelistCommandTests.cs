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
}
