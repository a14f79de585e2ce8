using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class ApplicationLaunchAndRoleDisplayName : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "IconUrl",
                table: "Applications",
                type: "nvarchar(max)",
                maxLength: 32768,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LaunchUrl",
                table: "Applications",
                type: "nvarchar(2000)",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Theme",
                table: "Applications",
                type: "nvarchar(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DisplayName",
                table: "AccessRoles",
                type: "nvarchar(200)",
                maxLength: 200,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "IconUrl",
                table: "Applications");

            migrationBuilder.DropColumn(
                name: "LaunchUrl",
                table: "Applications");

            migrationBuilder.DropColumn(
                name: "Theme",
                table: "Applications");

            migrationBuilder.DropColumn(
                name: "DisplayName",
                table: "AccessRoles");
        }
    }
}
