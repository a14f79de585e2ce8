using Npgsql;

namespace IdentityHub.Testing;

/// <summary>A database of its own in the throwaway PostgreSQL cluster, dropped when disposed.</summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly string _server;

    private PostgresDatabase(string server, string name)
    {
        _server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    /// <summary>Names a fresh database without creating it (the server's migrations create it).</summary>
    public static PostgresDatabase Reserve()
    {
        var server = TestEnvironment.Require(Prerequisite.PostgreSql, TestEnvironment.PostgresServer);
        return new PostgresDatabase(server, "ih_test_" + Guid.NewGuid().ToString("N")[..16]);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_server) { Database = "postgres" }.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
