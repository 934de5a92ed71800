// A synchronous FIFO. Data pushed in cycle c is at the head from cycle c + 1. Pushing into a full
// FIFO or popping an empty one is a bug of the caller (asserted in simulation).
module systole_fifo #(
  parameter int unsigned Width = 256,
  parameter int unsigned Depth = 64,
  localparam int unsigned Aw   = $clog2(Depth),
  localparam int unsigned Cw   = $clog2(Depth + 1)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             flush_i,
  input  logic             push_i,
  input  logic [Width-1:0] wdata_i,
  input  logic             pop_i,
  output logic             valid_o,
  output logic [Width-1:0] rdata_o,
  output logic [Cw-1:0]    count_o
);

  logic [Width-1:0] mem_q [Depth];
  logic [Aw-1:0] wptr_q, rptr_q;
  logic [Cw-1:0] count_q;

  always_ff @(posedge clk_i) begin
    if (push_i) begin
      mem_q[wptr_q] <= wdata_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q  <= '0;
      rptr_q  <= '0;
      count_q <= '0;
    end else if (flush_i) begin
      wptr_q  <= '0;
      rptr_q  <= '0;
      count_q <= '0;
    end else begin
      if (push_i) begin
        wptr_q <= (wptr_q == Aw'(Depth - 1)) ? '0 : wptr_q + 1'b1;
      end
      if (pop_i) begin
        rptr_q <= (rptr_q == Aw'(Depth - 1)) ? '0 : rptr_q + 1'b1;
      end
      count_q <= count_q + Cw'(push_i) - Cw'(pop_i);
    end
  end

  assign valid_o = count_q != '0;
  assign rdata_o = mem_q[rptr_q];
  assign count_o = count_q;

`ifndef SYNTHESIS
  // Invariants, checked by Verilator with --assert (yosys defines SYNTHESIS and skips them).
  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  always_ff @(posedge clk_i) begin
    if (chk_q && !flush_i) begin
      assert (!(push_i && !pop_i && count_q == Cw'(Depth))) else $error("systole_fifo: push into a full FIFO");
      assert (!(pop_i && count_q == '0)) else $error("systole_fifo: pop of an empty FIFO");
    end
  end
  CountInRange: assert property (@(posedge clk_i) disable iff (!chk_q) count_q <= Cw'(Depth))
    else $error("systole_fifo: count above Depth");
`endif

endmodule
