using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.PostgreSql.Migrations
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
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "RequireMfa",
                table: "Applications",
                type: "boolean",
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
