using IdentityHub.Core.Directory;

namespace IdentityHub.Core.Tests.Directory;

/// <summary>Reading import files: every format problem is reported with its line and column, nothing is guessed.</summary>
public sealed class CsvImportParseTests
{
    [Fact]
    public void ParseDepartments_HeaderWithoutName_ReportsTheMissingColumnOnLine1()
    {
        var (rows, errors) = CsvImport.ParseDepartments(new StringReader("code,parentCode\nD1,\n"));

        Assert.Empty(rows);
        var error = Assert.Single(errors);
        Assert.Equal((1, "name"), (error.Row, error.Field));
    }

    [Fact]
    public void ParseDepartments_EmptyFile_ReportsLine1()
    {
        var (_, errors) = CsvImport.ParseDepartments(new StringReader(""));

        Assert.Equal(1, Assert.Single(errors).Row);
    }

    [Fact]
    public void ParseDepartments_CodeTwiceAndMissingName_ReportsEachLine()
    {
        var (rows, errors) = CsvImport.ParseDepartments(new StringReader("code,name,parentCode\nD1,One,\nD1,Again,\nD2,,\n"));

        Assert.Equal([(3, "code"), (4, "name")], errors.Select(e => (e.Row, e.Field)).Order());
        Assert.Equal(2, rows.Count);
    }

    [Fact]
    public void ParseUsers_HeaderCaseAndSpacesAndSemicolons_AreAccepted()
    {
        var (rows, errors) = CsvImport.ParseUsers(new StringReader(" EmployeeNumber ; DisplayName ; departmentCode\nE1 ; Wang Fang ; FIN\n"));

        Assert.Empty(errors);
        var row = Assert.Single(rows);
        Assert.Equal(("E1", "E1", "Wang Fang", "FIN"), (row.EmployeeNumber, row.UserName, row.DisplayName, row.DepartmentCode));
    }

    [Fact]
    public void ParseUsers_QuotedFieldWithCommaAndNewline_IsOneValue()
    {
        var (rows, errors) = CsvImport.ParseUsers(new StringReader("employeeNumber,displayName\nE1,\"Li, Lei\"\nE2,\"Two\nLines\"\n"));

        Assert.Empty(errors);
        Assert.Equal(["Li, Lei", "Two\nLines"], rows.Select(r => r.DisplayName));
    }
}
