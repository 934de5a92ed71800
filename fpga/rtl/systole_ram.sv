// One simple dual-port RAM with a registered read: one write port and one read port, inferred as
// block RAM. Read data appears the cycle after the address. A read of the row written in the same
// cycle returns the old value (read-first); nothing in Systole relies on either.
module systole_ram #(
  parameter int unsigned Rows  = 4096,
  parameter int unsigned Width = 128,
  localparam int unsigned Aw   = $clog2(Rows)
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [Aw-1:0]    waddr_i,
  input  logic [Width-1:0] wdata_i,
  input  logic             re_i,
  input  logic [Aw-1:0]    raddr_i,
  output logic [Width-1:0] rdata_o
);

  logic [Width-1:0] mem_q [Rows];

  // Block RAM has no reset: the contents are kept across SOFT_RESET, as the contract says.
  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
    if (re_i) begin
      rdata_o <= mem_q[raddr_i];
    end
  end

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Addresses name a row of the RAM (always true when Rows is a power of two).
  always_ff @(posedge clk_i) begin
    if (we_i) begin
      assert ({1'b0, waddr_i} < (Aw + 1)'(Rows))
        else $error("systole_ram: write address %0d not below Rows = %0d", waddr_i, Rows);
    end
    if (re_i) begin
      assert ({1'b0, raddr_i} < (Aw + 1)'(Rows))
        else $error("systole_ram: read address %0d not below Rows = %0d", raddr_i, Rows);
    end
  end
`endif

endmodule
