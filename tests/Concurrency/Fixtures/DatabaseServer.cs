using System.Data.Common;
using System.Diagnostics;
using System.Net.Sockets;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency.Fixtures;

/// <summary>
/// A database server of one test class's own (PostgreSQL 15 or MariaDB, as this build targets), in a scratch data
/// directory on a free port, which its tests may kill, freeze and restart without disturbing the other classes: they
/// share the server ./dev starts. Authentication is off (trust; skip-grant-tables): it listens on 127.0.0.1 only and
/// holds nothing but test data.
/// </summary>
public sealed class DatabaseServer : IAsyncLifetime
{
    readonly string _directory = Path.Combine(Path.GetTempPath(), $"monolith-server-{Guid.NewGuid():N}");

    public int Port { get; } = HostProcess.FreePort();

    /// <summary>A connection string to <paramref name="database"/> on this server, with this build's driver's keys.</summary>
    public string ConnectionString(string database, int maxPoolSize = 100)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = ModuleDatabase.DefaultConnectionString };
        builder["Port"] = Port;
        builder["Database"] = database;
        builder["Maximum Pool Size"] = maxPoolSize;
        return builder.ConnectionString;
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        await RunAsync("chown", [ServiceUser, _directory]);
#if MYSQL
        await RunAsync("mariadb-install-db", ["--no-defaults", $"--datadir={DataDirectory}", $"--user={ServiceUser}", "--skip-test-db",
            "--auth-root-authentication-method=normal"]);
#else
        await RunAsync("runuser", ["-u", ServiceUser, "--", Binary("initdb"), "-D", DataDirectory, "-U", "monolith", "--auth=trust", "-E", "UTF8", "--no-sync"]);
#endif
        await StartAsync();
    }

    /// <summary>Starts the server (again, after <see cref="KillAsync"/>: it recovers from its log) and waits until it answers.</summary>
    public async Task StartAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60); // a bound for a broken machine, not a measurement
        while (true)
        {
            // A killed PostgreSQL's backends may hold its shared memory for a moment: the start fails, and is tried again.
#if MYSQL
            var server = Process.Start(Start("mariadbd", ["--no-defaults", $"--datadir={DataDirectory}", $"--port={Port}", "--bind-address=127.0.0.1",
                $"--socket={Path.Combine(_directory, "mysqld.sock")}", $"--pid-file={PidFile}", $"--user={ServiceUser}", "--skip-grant-tables",
                "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=2", "--max-connections=300", "--skip-log-bin"]))!;
#else
            // setpriv, unlike runuser, execs the server in its own process: runuser would stay its parent, stop itself
            // when the server is frozen, and never reap it once it is killed.
            var server = Process.Start(Start("setpriv", ["--reuid", ServiceUser, "--regid", ServiceUser, "--init-groups", "--", Binary("postgres"), "-D", DataDirectory, "-p", Port.ToString(),
                "-k", _directory, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"]))!;
#endif
            server.OutputDataReceived += (_, _) => { };
            server.ErrorDataReceived += (_, _) => { };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();
            while (!server.HasExited && !await AnswersAsync()) await Task.Delay(50);
            if (!server.HasExited) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the database server on port {Port} did not start");
            await Task.Delay(200);
        }
    }

    /// <summary>kill -9 of the server and every process it runs, as a crash would; returns once none is left.</summary>
    public async Task KillAsync()
    {
        var processes = Processes();
        foreach (var pid in processes) await RunAsync("kill", ["-KILL", pid.ToString()], mayFail: true);
        while (processes.Any(IsAlive)) await Task.Delay(20);
    }

    /// <summary>Running, or stopped; not gone and not a zombie (dead, waiting for its parent to reap it).</summary>
    static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (IOException) { return false; }
    }

    /// <summary>SIGSTOP: the server keeps its sockets open and answers nothing, as a frozen machine would.</summary>
    public Task FreezeAsync() => SignalAsync("-STOP");

    public Task ThawAsync() => SignalAsync("-CONT");

    async Task SignalAsync(string signal)
    {
        foreach (var pid in Processes()) await RunAsync("kill", [signal, pid.ToString()], mayFail: true);
    }

    /// <summary>
    /// Ends every connection but this one to <paramref name="database"/> from the server's side (pg_terminate_backend,
    /// KILL), mid-transaction or not; returns how many it ended.
    /// </summary>
    public async Task<int> TerminateConnectionsAsync(string database)
    {
        await using var admin = DatabaseProvider.Connect(ConnectionString(database, maxPoolSize: 1) + ";Pooling=false");
        await admin.OpenAsync();
        await using var list = admin.CreateCommand();
#if MYSQL
        list.CommandText = $"SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{database}' AND ID <> CONNECTION_ID()";
#else
        list.CommandText = $"SELECT pid FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()";
#endif
        var ids = new List<long>();
        await using (var reader = await list.ExecuteReaderAsync())
            while (await reader.ReadAsync()) ids.Add(Convert.ToInt64(reader.GetValue(0)));
        var ended = 0;
        foreach (var id in ids)
        {
            await using var kill = admin.CreateCommand();
#if MYSQL
            kill.CommandText = $"KILL {id}";
#else
            kill.CommandText = $"SELECT pg_terminate_backend({id})";
#endif
            try
            {
                await kill.ExecuteNonQueryAsync();
                ended++;
            }
            catch (DbException)
            {
                // It ended by itself meanwhile.
            }
        }
        return ended;
    }

    public async Task DisposeAsync()
    {
        await ThawAsync();
        await KillAsync();
        Directory.Delete(_directory, recursive: true);
    }

    string DataDirectory => Path.Combine(_directory, "data");

#if MYSQL
    const string ServiceUser = "mysql";
    string PidFile => Path.Combine(_directory, "mysqld.pid");

    /// <summary>mariadbd is one process.</summary>
    List<int> Processes() => File.Exists(PidFile) && int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid) ? [pid] : [];
#else
    const string ServiceUser = "postgres";

    static string Binary(string name) => $"/usr/lib/postgresql/15/bin/{name}";

    /// <summary>The postmaster (first line of postmaster.pid) and its children, the backends and workers.</summary>
    List<int> Processes()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).First().Trim(), out var postmaster)) return [];
        var children = Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ParentOf(pid) == postmaster);
        return [postmaster, .. children];
    }

    static int ParentOf(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after its closing parenthesis.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
        }
        catch (IOException) { return 0; }
    }
#endif

    async Task<bool> AnswersAsync()
    {
        try
        {
            await using var connection = DatabaseProvider.Connect(ConnectionString(ServiceDatabase, maxPoolSize: 1) + ";Pooling=false");
            await connection.OpenAsync();
            return true;
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or IOException or SocketException or TimeoutException)
        {
            return false;
        }
    }

    static string ServiceDatabase =>
#if MYSQL
        "mysql";
#else
        "postgres";
#endif

    static ProcessStartInfo Start(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return start;
    }

    static async Task RunAsync(string file, string[] arguments, bool mayFail = false)
    {
        using var process = Process.Start(Start(file, arguments))!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 && !mayFail)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}");
    }
}
