using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class MfaRequirements : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "RequireMfa",
                table: "Departments",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "RequireMfa",
                table: "Applications",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "RequireMfa",
                table: "Departments");

            migrationBuilder.DropColumn(
                name: "RequireMfa",
                table: "Applications");
        }
    }
}
