using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using SafeHaven.Airlock.Api;
using Spectre.Console;

namespace SafeHaven.Airlock.Cli;

/// <summary>
/// <c>safehaven airlock open | deposit | submit | review | confirm | release | download | status | agreement</c>: the
/// airlock workflow against a running appliance's API (<c>--url</c>, <c>--token</c> or <c>SAFEHAVEN_TOKEN</c>;
/// depositors use <c>--deposit-token</c>). Uploads go in chunks with a SHA-256 each, resume where the appliance says
/// they stopped, and show a progress bar.
/// </summary>
public static class AirlockCommand
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    public static Command Create()
    {
        var command = new Command("airlock", "Software and data ingress and egress: open, deposit, submit, review, release, status.");
        command.Subcommands.Add(Open());
        command.Subcommands.Add(Deposit());
        command.Subcommands.Add(Submit());
        command.Subcommands.Add(Review());
        command.Subcommands.Add(Confirm());
        command.Subcommands.Add(Release());
        command.Subcommands.Add(Download());
        command.Subcommands.Add(Status());
        command.Subcommands.Add(Agreement());
        return command;
    }

    private static Option<string> UrlOption() => new("--url")
    {
        Description = "The appliance's base URL (default: SAFEHAVEN_URL or http://127.0.0.1:8080).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SAFEHAVEN_URL") is { Length: > 0 } url ? url : "http://127.0.0.1:8080",
    };

    private static Option<string?> TokenOption() => new("--token") { Description = "API key or JWT (default: SAFEHAVEN_TOKEN)." };

    private static Option<string> DepositTokenOption() => new("--deposit-token") { Description = "The deposit token (shd_...) the submission's opener gave you.", Required = true };

    private static Command WithApi(Command command, Func<ParseResult, AirlockClient, CancellationToken, Task<int>> action, bool bearer = true)
    {
        var url = UrlOption();
        var token = TokenOption();
        command.Options.Add(url);
        if (bearer)
        {
            command.Options.Add(token);
        }
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var baseUrl = parseResult.GetValue(url)!;
            if (!Uri.TryCreate(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                await Console.Error.WriteLineAsync($"safehaven airlock: --url '{baseUrl}' is not an http(s) URL.").ConfigureAwait(false);
                return 2;
            }
            var bearerToken = bearer ? parseResult.GetValue(token) ?? Environment.GetEnvironmentVariable("SAFEHAVEN_TOKEN") : null;
            if (bearer && string.IsNullOrWhiteSpace(bearerToken))
            {
                await Console.Error.WriteLineAsync("safehaven airlock: give --token or set SAFEHAVEN_TOKEN.").ConfigureAwait(false);
                return 2;
            }
            using var client = AirlockClient.Create(uri, bearerToken);
            try
            {
                return await action(parseResult, client, cancellationToken).ConfigureAwait(false);
            }
            catch (AirlockClientException e)
            {
                await Console.Error.WriteLineAsync($"safehaven airlock {command.Name}: {e.Message}").ConfigureAwait(false);
                return 1;
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"safehaven airlock {command.Name}: cannot reach {uri}: {e.Message}").ConfigureAwait(false);
                return 3;
            }
        });
        return command;
    }

    private static void Print(JsonNode node) => Console.Out.WriteLine(node.ToJsonString(Pretty));

    private static Command Open()
    {
        var project = new Option<string>("--project") { Required = true };
        var workPackage = new Option<string>("--work-package") { Required = true };
        var kind = new Option<string>("--kind") { Required = true, Description = "software_ingress, data_ingress or egress." };
        kind.AcceptOnlyFromAmong("software_ingress", "data_ingress", "egress");
        var depositor = new Option<string?>("--depositor") { Description = "Data ingress: the Dataset Provider Representative who deposits." };
        var script = new Option<string?>("--script") { Description = "Egress: the path (in the submission) of the script that produced the outputs." };
        var hours = new Option<int>("--hours") { Description = "How long the deposit token works.", DefaultValueFactory = _ => 72 };
        var range = new Option<string?>("--allowed-range") { Description = "CIDR range the depositor must connect from." };
        var command = new Command("open", "Open a submission and print its deposit token (shown once).");
        foreach (var o in new Option[] { project, workPackage, kind, depositor, script, hours, range })
        {
            command.Options.Add(o);
        }
        return WithApi(command, async (p, client, ct) =>
        {
            Print(await client.SendAsync(HttpMethod.Post, "api/airlock/submissions", new OpenRequest(p.GetValue(project)!, p.GetValue(workPackage)!, p.GetValue(kind)!,
                p.GetValue(depositor), p.GetValue(script), p.GetValue(hours), p.GetValue(range)), null, ct).ConfigureAwait(false));
            return 0;
        });
    }

    private static Command Deposit()
    {
        var token = DepositTokenOption();
        var paths = new Argument<string[]>("paths") { Description = "Files or directories (a directory's files keep their paths below it).", Arity = ArgumentArity.OneOrMore };
        var chunkMiB = new Option<int>("--chunk-mib") { Description = "Chunk size in MiB (1 to 256).", DefaultValueFactory = _ => 8 };
        var command = new Command("deposit", "Upload files into a submission with the deposit token; resumes interrupted uploads.");
        command.Arguments.Add(paths);
        command.Options.Add(token);
        command.Options.Add(chunkMiB);
        return WithApi(command, async (p, client, ct) =>
        {
            var files = Expand(p.GetValue(paths)!);
            var chunkSize = Math.Clamp(p.GetValue(chunkMiB), 1, 256) * 1024 * 1024;
            var depositToken = p.GetValue(token)!;
            await AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    foreach (var (file, volumePath) in files)
                    {
                        var task = progress.AddTask(volumePath, maxValue: Math.Max(1, file.Length));
                        var sha = await AirlockClient.Sha256Async(file, ct).ConfigureAwait(false);
                        var status = await client.BeginUploadAsync(depositToken, volumePath, file.Length, sha, chunkSize, ct).ConfigureAwait(false);
                        var received = status.ReceivedChunks.ToHashSet();
                        task.Increment(received.Sum(i => ChunkLength(status, i)));
                        var buffer = new byte[Math.Min(chunkSize, Math.Max(1, file.Length))];
                        await using var stream = file.OpenRead();
                        for (long i = 0; i < status.ChunkCount; i++)
                        {
                            if (received.Contains(i))
                            {
                                continue;
                            }
                            var length = (int)ChunkLength(status, i);
                            stream.Position = i * status.ChunkSize;
                            await stream.ReadExactlyAsync(buffer.AsMemory(0, length), ct).ConfigureAwait(false);
                            await client.PutChunkAsync(depositToken, status.UploadId, i, buffer.AsMemory(0, length), ct).ConfigureAwait(false);
                            task.Increment(length);
                        }
                        await client.SendAsync(HttpMethod.Post, $"airlock/deposit/uploads/{status.UploadId}/complete", null,
                            (AirlockEndpoints.DepositTokenHeader, depositToken), ct).ConfigureAwait(false);
                        task.Value = task.MaxValue;
                    }
                }).ConfigureAwait(false);
            Console.Out.WriteLine($"Deposited {files.Count} file(s). Run 'safehaven airlock submit' when the transfer is complete.");
            return 0;
        }, bearer: false);
    }

    private static long ChunkLength(UploadStatusView status, long index) =>
        index == status.ChunkCount - 1 ? status.Size - (index * status.ChunkSize) : status.ChunkSize;

    private static List<(FileInfo File, string VolumePath)> Expand(IEnumerable<string> paths)
    {
        var files = new List<(FileInfo, string)>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var root = Path.GetFullPath(path);
                files.AddRange(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                    .Select(f => (new FileInfo(f), Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))));
            }
            else if (File.Exists(path))
            {
                files.Add((new FileInfo(path), Path.GetFileName(path)));
            }
            else
            {
                throw new AirlockClientException($"{path}: no such file or directory.");
            }
        }
        return files;
    }

    private static Command Submit()
    {
        var token = DepositTokenOption();
        var noWait = new Option<bool>("--no-wait") { Description = "Return once the transfer is marked complete, without waiting for the inspection." };
        var command = new Command("submit",
            "Mark the transfer complete (the deposit token then only reads this submission's state) and wait for the inspection's verdict. "
            + "Exit 0 when it passed (in_review or approved), 4 when it did not (blocked or failed; the reason is printed).");
        command.Options.Add(token);
        command.Options.Add(noWait);
        return WithApi(command, async (p, client, ct) =>
        {
            var header = (AirlockEndpoints.DepositTokenHeader, p.GetValue(token)!);
            var status = await client.SendAsync(HttpMethod.Post, "airlock/deposit/complete", null, header, ct).ConfigureAwait(false);
            if (p.GetValue(noWait))
            {
                Print(status);
                return 0;
            }
            var delay = TimeSpan.FromMilliseconds(250);
            while (StateOf(status) is "submitted" or "scanning")
            {
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                status = await client.SendAsync(HttpMethod.Get, AirlockEndpoints.DepositStatusPath.TrimStart('/'), null, header, ct).ConfigureAwait(false);
            }
            Print(status);
            if (StateOf(status) is "in_review" or "approved")
            {
                return 0;
            }
            await Console.Error.WriteLineAsync($"safehaven airlock submit: the submission is {StateOf(status)}: {status["stateReason"]?.GetValue<string>()}").ConfigureAwait(false);
            return 4;
        }, bearer: false);
    }

    private static string? StateOf(JsonNode status) => status["state"]?.GetValue<string>();

    private static Command Review()
    {
        var id = new Argument<string>("submission");
        var decision = new Option<string>("--decision") { Required = true, Description = "approve or reject." };
        decision.AcceptOnlyFromAmong("approve", "reject");
        var reason = new Option<string>("--reason") { Required = true };
        var command = new Command("review", "Record your sign-off (approve or reject) with a reason.");
        command.Arguments.Add(id);
        command.Options.Add(decision);
        command.Options.Add(reason);
        return WithApi(command, async (p, client, ct) =>
        {
            Print(await client.SendAsync(HttpMethod.Post, $"api/airlock/submissions/{Uri.EscapeDataString(p.GetValue(id)!)}/reviews",
                new ReviewRequest(p.GetValue(decision)!, p.GetValue(reason)!), null, ct).ConfigureAwait(false));
            return 0;
        });
    }

    private static Command Confirm()
    {
        var id = new Argument<string>("submission");
        var paths = new Argument<string[]>("paths") { Description = "The files you deposited (as given to 'deposit').", Arity = ArgumentArity.OneOrMore };
        var command = new Command("confirm", "Depositor: confirm that the appliance's SHA-256 of every file matches yours (computed here).");
        command.Arguments.Add(id);
        command.Arguments.Add(paths);
        return WithApi(command, async (p, client, ct) =>
        {
            var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (file, volumePath) in Expand(p.GetValue(paths)!))
            {
                hashes[volumePath] = await AirlockClient.Sha256Async(file, ct).ConfigureAwait(false);
            }
            Print(await client.SendAsync(HttpMethod.Post, $"api/airlock/submissions/{Uri.EscapeDataString(p.GetValue(id)!)}/confirm-hash",
                new ConfirmHashRequest(hashes), null, ct).ConfigureAwait(false));
            return 0;
        });
    }

    private static Command Release()
    {
        var id = new Argument<string>("submission");
        var reason = new Option<string>("--reason") { Required = true };
        var hours = new Option<int>("--hours") { DefaultValueFactory = _ => 24 };
        var range = new Option<string?>("--allowed-range") { Description = "CIDR range the download must come from." };
        var command = new Command("release", "Release approved outputs: prints a time-limited read-only download token (shown once).");
        command.Arguments.Add(id);
        command.Options.Add(reason);
        command.Options.Add(hours);
        command.Options.Add(range);
        return WithApi(command, async (p, client, ct) =>
        {
            Print(await client.SendAsync(HttpMethod.Post, $"api/airlock/submissions/{Uri.EscapeDataString(p.GetValue(id)!)}/release",
                new ReleaseRequest(p.GetValue(reason)!, p.GetValue(hours), p.GetValue(range)), null, ct).ConfigureAwait(false));
            return 0;
        });
    }

    private static Command Download()
    {
        var token = new Option<string>("--release-token") { Required = true };
        var output = new Option<DirectoryInfo>("--output") { Required = true };
        var command = new Command("download", "Download released outputs with a release token, verifying each file's SHA-256.");
        command.Options.Add(token);
        command.Options.Add(output);
        return WithApi(command, async (p, client, ct) =>
        {
            var header = (AirlockEndpoints.ReleaseTokenHeader, p.GetValue(token)!);
            var manifest = (await client.SendAsync(HttpMethod.Get, "airlock/release/", null, header, ct).ConfigureAwait(false)).Deserialize<ReleaseManifestView>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
            var root = p.GetValue(output)!.FullName;
            await AnsiConsole.Progress().AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn())
                .StartAsync(async progress =>
                {
                    foreach (var file in manifest.Files)
                    {
                        var target = Path.GetFullPath(Path.Combine(root, file.Path));
                        if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        {
                            throw new AirlockClientException($"Refusing '{file.Path}': outside {root}.");
                        }
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        var task = progress.AddTask(file.Path, maxValue: Math.Max(1, file.Size));
                        var partial = target + ".partial";
                        await using (var stream = File.Create(partial))
                        {
                            await client.DownloadAsync("airlock/release/files/" + string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString)), header, stream,
                                (n, _) => task.Increment(n), ct).ConfigureAwait(false);
                        }
                        if (await AirlockClient.Sha256Async(new FileInfo(partial), ct).ConfigureAwait(false) != file.Sha256)
                        {
                            File.Delete(partial);
                            throw new AirlockClientException($"'{file.Path}' did not match its SHA-256; removed.");
                        }
                        File.Move(partial, target, overwrite: true);
                        task.Value = task.MaxValue;
                    }
                }).ConfigureAwait(false);
            Console.Out.WriteLine($"Downloaded {manifest.Files.Count} file(s) to {root}; volume SHA-256 {manifest.VolumeSha256}.");
            return 0;
        }, bearer: false);
    }

    private static Command Status()
    {
        var id = new Argument<string?>("submission") { Arity = ArgumentArity.ZeroOrOne };
        var project = new Option<string?>("--project");
        var depositToken = new Option<string?>("--deposit-token") { Description = "As a depositor: where this deposit stands, also after submit (state and reason; no file list)." };
        var command = new Command("status", "A submission's state and sign-offs, or your submissions.");
        command.Arguments.Add(id);
        command.Options.Add(project);
        command.Options.Add(depositToken);
        var url = UrlOption();
        var token = TokenOption();
        command.Options.Add(url);
        command.Options.Add(token);
        command.SetAction(async (p, ct) =>
        {
            var deposit = p.GetValue(depositToken);
            var bearer = p.GetValue(token) ?? Environment.GetEnvironmentVariable("SAFEHAVEN_TOKEN");
            if (deposit is null && string.IsNullOrWhiteSpace(bearer))
            {
                await Console.Error.WriteLineAsync("safehaven airlock status: give --token (or SAFEHAVEN_TOKEN), or --deposit-token.").ConfigureAwait(false);
                return 2;
            }
            var baseUrl = p.GetValue(url)!;
            using var client = AirlockClient.Create(new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/"), deposit is null ? bearer : null);
            try
            {
                var path = deposit is not null ? AirlockEndpoints.DepositStatusPath.TrimStart('/')
                    : p.GetValue(id) is { } submission ? $"api/airlock/submissions/{Uri.EscapeDataString(submission)}"
                    : "api/airlock/submissions" + (p.GetValue(project) is { } name ? $"?project={Uri.EscapeDataString(name)}" : "");
                Print(await client.SendAsync(HttpMethod.Get, path, null, deposit is null ? null : (AirlockEndpoints.DepositTokenHeader, deposit), ct).ConfigureAwait(false));
                return 0;
            }
            catch (AirlockClientException e)
            {
                await Console.Error.WriteLineAsync($"safehaven airlock status: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static Command Agreement()
    {
        var project = new Option<string>("--project") { Required = true };
        var workPackage = new Option<string>("--work-package") { Required = true };
        var file = new Argument<FileInfo>("file");
        var command = new Command("agreement", "Project Manager: store the signed data-sharing agreement in the work package's document volume.");
        command.Options.Add(project);
        command.Options.Add(workPackage);
        command.Arguments.Add(file);
        return WithApi(command, async (p, client, ct) =>
        {
            var f = p.GetValue(file)!;
            var sha = await AirlockClient.Sha256Async(f, ct).ConfigureAwait(false);
            Print(await client.PutFileAsync($"api/airlock/projects/{Uri.EscapeDataString(p.GetValue(project)!)}/workpackages/{Uri.EscapeDataString(p.GetValue(workPackage)!)}/agreement/{Uri.EscapeDataString(f.Name)}",
                f, sha, ct).ConfigureAwait(false));
            return 0;
        });
    }
}
