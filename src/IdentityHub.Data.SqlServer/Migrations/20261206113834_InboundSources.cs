using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace IdentityHub.Data.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class InboundSources : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ExternalId",
                table: "Departments",
                type: "nvarchar(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SourceId",
                table: "Departments",
                type: "uniqueidentifier",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ExternalId",
                table: "AspNetUsers",
                type: "nvarchar(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PendingManagerRef",
                table: "AspNetUsers",
                type: "nvarchar(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SourceId",
                table: "AspNetUsers",
                type: "uniqueidentifier",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "InboundSources",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Name = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Enabled = table.Column<bool>(type: "bit", nullable: false),
                    OwnedAttributes = table.Column<string>(type: "nvarchar(500)", maxLength: 500, nullable: false),
                    ConflictPolicy = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Settings = table.Column<string>(type: "nvarchar(max)", maxLength: 16000, nullable: false),
                    TokenHash = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: true),
                    TokenHint = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: true),
                    TokenIssuedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    ProtectedSecret = table.Column<string>(type: "nvarchar(4000)", maxLength: 4000, nullable: true),
                    Cursor = table.Column<string>(type: "nvarchar(1000)", maxLength: 1000, nullable: true),
                    FirstImportApproved = table.Column<bool>(type: "bit", nullable: false),
                    NextIncrementAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    NextReconciliationAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundSources", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "InboundConflicts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    SourceId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    UserId = table.Column<string>(type: "nvarchar(450)", maxLength: 450, nullable: false),
                    Attribute = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    LocalValue = table.Column<string>(type: "nvarchar(1000)", maxLength: 1000, nullable: true),
                    SourceValue = table.Column<string>(type: "nvarchar(1000)", maxLength: 1000, nullable: true),
                    Resolution = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    ChangedBy = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: true),
                    OccurredAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundConflicts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_InboundConflicts_InboundSources_SourceId",
                        column: x => x.SourceId,
                        principalTable: "InboundSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "InboundRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    SourceId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    RequestedBy = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    Created = table.Column<int>(type: "int", nullable: false),
                    Updated = table.Column<int>(type: "int", nullable: false),
                    Left = table.Column<int>(type: "int", nullable: false),
                    Skipped = table.Column<int>(type: "int", nullable: false),
                    Conflicts = table.Column<int>(type: "int", nullable: false),
                    Failed = table.Column<int>(type: "int", nullable: false),
                    Errors = table.Column<string>(type: "nvarchar(max)", maxLength: 16000, nullable: true),
                    Report = table.Column<string>(type: "nvarchar(max)", nullable: true),
                    Failure = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_InboundRuns_InboundSources_SourceId",
                        column: x => x.SourceId,
                        principalTable: "InboundSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "InboundSourceSubtrees",
                columns: table => new
                {
                    SourceId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    DepartmentId = table.Column<Guid>(type: "uniqueidentifier", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InboundSourceSubtrees", x => new { x.SourceId, x.DepartmentId });
                    table.ForeignKey(
                        name: "FK_InboundSourceSubtrees_Departments_DepartmentId",
                        column: x => x.DepartmentId,
                        principalTable: "Departments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_InboundSourceSubtrees_InboundSources_SourceId",
                        column: x => x.SourceId,
                        principalTable: "InboundSources",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Departments_SourceId_ExternalId",
                table: "Departments",
                columns: new[] { "SourceId", "ExternalId" },
                unique: true,
                filter: "[SourceId] IS NOT NULL AND [ExternalId] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_AspNetUsers_SourceId_ExternalId",
                table: "AspNetUsers",
                columns: new[] { "SourceId", "ExternalId" },
                unique: true,
                filter: "[SourceId] IS NOT NULL AND [ExternalId] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_InboundConflicts_SourceId_OccurredAt",
                table: "InboundConflicts",
                columns: new[] { "SourceId", "OccurredAt" });

            migrationBuilder.CreateIndex(
                name: "IX_InboundRuns_SourceId_Kind_StartedAt",
                table: "InboundRuns",
                columns: new[] { "SourceId", "Kind", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_InboundSources_Name",
                table: "InboundSources",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_InboundSources_TokenHash",
                table: "InboundSources",
                column: "TokenHash",
                unique: true,
                filter: "[TokenHash] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_InboundSourceSubtrees_DepartmentId",
                table: "InboundSourceSubtrees",
                column: "DepartmentId");

            migrationBuilder.AddForeignKey(
                name: "FK_AspNetUsers_InboundSources_SourceId",
                table: "AspNetUsers",
                column: "SourceId",
                principalTable: "InboundSources",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);

            migrationBuilder.AddForeignKey(
                name: "FK_Departments_InboundSources_SourceId",
                table: "Departments",
                column: "SourceId",
                principalTable: "InboundSources",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_AspNetUsers_InboundSources_SourceId",
                table: "AspNetUsers");

            migrationBuilder.DropForeignKey(
                name: "FK_Departments_InboundSources_SourceId",
                table: "Departments");

            migrationBuilder.DropTable(
                name: "InboundConflicts");

            migrationBuilder.DropTable(
                name: "InboundRuns");

            migrationBuilder.DropTable(
                name: "InboundSourceSubtrees");

            migrationBuilder.DropTable(
                name: "InboundSources");

            migrationBuilder.DropIndex(
                name: "IX_Departments_SourceId_ExternalId",
                table: "Departments");

            migrationBuilder.DropIndex(
                name: "IX_AspNetUsers_SourceId_ExternalId",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "ExternalId",
                table: "Departments");

            migrationBuilder.DropColumn(
                name: "SourceId",
                table: "Departments");

            migrationBuilder.DropColumn(
                name: "ExternalId",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "PendingManagerRef",
                table: "AspNetUsers");

            migrationBuilder.DropColumn(
                name: "SourceId",
                table: "AspNetUsers");
        }
    }
}
