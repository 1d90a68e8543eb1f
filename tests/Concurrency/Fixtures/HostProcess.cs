using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// The real Host as a process of its own (the build's Monolith.Host.dll under <c>dotnet</c>) on a loopback port, so a
/// test can kill it with SIGKILL, as a crash would, and start it again on the same port and database. Its console
/// output is kept: the recovery it logs at start-up is part of what a test checks.
/// </summary>
internal sealed class HostProcess : IAsyncDisposable
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    readonly IReadOnlyDictionary<string, string> _settings;
    readonly ConcurrentQueue<string> _output = new();
    Process? _process;

    HostProcess(IReadOnlyDictionary<string, string> settings)
    {
        _settings = settings;
        Port = FreePort();
    }

    public int Port { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>The CPU time the running Host process has used so far, user and kernel.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            var process = _process ?? throw new InvalidOperationException("The Host is not running.");
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    /// <summary>Every line the Host's processes have written so far, across restarts.</summary>
    public IReadOnlyList<string> Output => _output.ToArray();

    /// <summary>
    /// Starts the Host with <paramref name="settings"/> (configuration keys as in appsettings.json, ":" separated)
    /// and waits until /health answers.
    /// </summary>
    public static async Task<HostProcess> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var host = new HostProcess(settings);
        await host.StartAsync();
        return host;
    }

    public async Task StartAsync()
    {
        if (_process is { HasExited: false }) throw new InvalidOperationException("The Host is already running.");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { HostAssembly() },
            // The content root, where appsettings.json is, as WebApplicationFactory uses it.
            WorkingDirectory = Path.Combine(RepositoryRoot(), "src", "Host"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Urls"] = BaseAddress.ToString();
        foreach (var (key, value) in _settings) start.Environment[key.Replace(":", "__")] = value;

        var process = _process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        var linesBefore = _output.Count;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The Host exited with {process.ExitCode} while starting:\n{string.Join('\n', Output.TakeLast(40))}");
            try
            {
                if ((await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            if (deadline.Elapsed > StartTimeout)
            {
                // Whether it was starved or stuck: the CPU it used, and how far its output got.
                process.Refresh();
                throw new TimeoutException($"The Host did not answer /health within {StartTimeout}; it used {process.TotalProcessorTime.TotalSeconds:0.0} s of CPU " +
                                           $"and wrote {_output.Count - linesBefore} lines since it started:\n{string.Join('\n', Output.TakeLast(40))}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL, as a crash: no shutdown hook runs, no queued write is flushed.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    /// <summary>A port free on the loopback interface now; another process may take it before the caller binds it.</summary>
    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// The Host's own build output (artifacts/&lt;provider&gt;/bin/Host/&lt;configuration&gt;), built with the solution,
    /// not the copy beside the tests: the Host discovers its modules among the assemblies beside it.
    /// </summary>
    static string HostAssembly()
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory);
        var path = Path.Combine(tests.Parent!.Parent!.FullName, "Host", tests.Name, "Monolith.Host.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The Host is not built: no {path}. Build Monolith.sln first.");
    }

    internal static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Monolith.sln"))) root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException($"No Monolith.sln above {AppContext.BaseDirectory}.");
    }
}
