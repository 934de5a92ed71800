// A first-word-fall-through FIFO over an inferred RAM with a registered read.
//
// An entry pushed in cycle t is visible on rdata_o/valid_o from cycle t + 2 (one cycle to write
// the RAM, one to read it into the output register). While entries wait in the RAM, one entry a
// cycle can be popped. The caller never pushes into a full FIFO (the LOAD and STORE units count
// credits); an assertion checks it. clear_i empties the FIFO in one cycle.
module systole_align_fifo #(
  parameter int unsigned Width = 8,
  parameter int unsigned Depth = 16   // a power of two, at least 2
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             clear_i,
  input  logic             push_i,
  input  logic [Width-1:0] wdata_i,
  input  logic             pop_i,     // only while valid_o
  output logic             valid_o,
  output logic [Width-1:0] rdata_o
);
  localparam int unsigned AddrW = $clog2(Depth);

  logic [Width-1:0] mem_q [Depth];
  logic [AddrW-1:0] wptr_q, rptr_q;
  logic [AddrW:0]   ram_count_q;   // entries in the RAM, the output register not included
  logic             out_valid_q;
  logic [Width-1:0] out_q;
  logic             read;

  assign read    = (ram_count_q != '0) && (!out_valid_q || pop_i);
  assign valid_o = out_valid_q;
  assign rdata_o = out_q;

  always_ff @(posedge clk_i) begin
    if (push_i) begin
      mem_q[wptr_q] <= wdata_i;
    end
    if (read) begin
      out_q <= mem_q[rptr_q];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q      <= '0;
      rptr_q      <= '0;
      ram_count_q <= '0;
      out_valid_q <= 1'b0;
    end else if (clear_i) begin
      wptr_q      <= '0;
      rptr_q      <= '0;
      ram_count_q <= '0;
      out_valid_q <= 1'b0;
    end else begin
      if (push_i) begin
        wptr_q <= wptr_q + 1'b1;
      end
      if (read) begin
        rptr_q <= rptr_q + 1'b1;
      end
      ram_count_q <= ram_count_q + {{AddrW{1'b0}}, push_i} - {{AddrW{1'b0}}, read};
      if (read) begin
        out_valid_q <= 1'b1;
      end else if (pop_i) begin
        out_valid_q <= 1'b0;
      end
    end
  end

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  always_ff @(posedge clk_i) begin
    if (chk_q && !clear_i) begin
      assert (!(push_i && !read && ram_count_q == Depth[AddrW:0]))
        else $error("systole_align_fifo: push into a full FIFO");
      assert (!(pop_i && !out_valid_q))
        else $error("systole_align_fifo: pop from an empty FIFO");
    end
  end
  RamCountInRange: assert property (@(posedge clk_i) disable iff (!chk_q)
      ram_count_q <= Depth[AddrW:0])
    else $error("systole_align_fifo: more entries in the RAM than Depth");
`endif

endmodule
