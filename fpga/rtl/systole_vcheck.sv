// For simulation only (this whole file is skipped under SYNTHESIS, and the engines instantiate it
// under `ifndef SYNTHESIS`): the checks every engine of the VECTOR unit makes on its reads and
// writes, one instruction at a time. Let the instruction be accepted in cycle T (issue_i); its
// runs and its deadline are taken then.
//   IdleOnIssue      an instruction is accepted only while the engine is idle.
//   ReadInRun        every read of the source port (re_i, raddr_i) is a row of the source run
//                    src .. src + src_rows - 1: with InOrder each row once, in order, the first
//                    possibly in T; without (an engine reading the run in passes) anywhere in it.
//   WriteInRun       writes go to the destination run dst .. dst + dst_rows - 1 in order, write k
//                    after read k.
//   ReadBeforeWrite  with InOrder, a write to the source's buffer (wsrc_i) on a row of the source
//                    run only once that row and the rest of its block of Block rows have been
//                    read (in place).
//   InTime           busy, and writes, only in T + k for k < deadline: the contract's busy +
//                    VECTOR_LATENCY, systole_vector's done time.
//   AllWritten       when the engine goes idle (not by clear_i) it has written dst_rows rows.
// Name, the engine's module, begins each message. Row numbers are zero-extended to 32 bits.
`ifndef SYNTHESIS
module systole_vcheck
#(
  parameter string       Name    = "systole_vector",
  parameter bit          InOrder = 1'b1,
  parameter int unsigned Block   = 1
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        clear_i,
  input  logic        issue_i,
  input  logic        busy_i,
  input  logic [31:0] src_i,
  input  logic [31:0] src_rows_i,
  input  logic [31:0] dst_i,
  input  logic [31:0] dst_rows_i,
  input  logic [31:0] deadline_i,
  input  logic        re_i,
  input  logic [31:0] raddr_i,
  input  logic        we_i,
  input  logic [31:0] waddr_i,
  input  logic        wsrc_i
);

  // Checks start at the second edge after reset (systole_chk).
  logic chk_q;
  systole_chk u_chk (.clk_i(clk_i), .rst_ni(rst_ni), .on_o(chk_q));

  // The instruction as accepted, and how far it has got: el_q cycles since T (1 in T + 1, counted
  // while busy), nrd_q reads and nwr_q writes before this cycle. In T a read is checked against
  // the fields themselves (src, srows, nrd).
  logic [31:0] src_q, srows_q, dst_q, drows_q, dl_q, nrd_q, nwr_q, el_q;
  logic [31:0] src, srows, nrd;
  assign src   = issue_i ? src_i : src_q;
  assign srows = issue_i ? src_rows_i : srows_q;
  assign nrd   = issue_i ? '0 : nrd_q;

  always_ff @(posedge clk_i) begin
    if (issue_i) begin
      src_q   <= src_i;
      srows_q <= src_rows_i;
      dst_q   <= dst_i;
      drows_q <= dst_rows_i;
      dl_q    <= deadline_i;
      nwr_q   <= '0;
      el_q    <= 32'd1;
    end else begin
      nwr_q <= nwr_q + 32'(we_i);
      el_q  <= el_q + 32'(busy_i);
    end
    nrd_q <= nrd + 32'(re_i);
  end

  IdleOnIssue: assert property (@(posedge clk_i) disable iff (!chk_q) issue_i |-> !busy_i)
    else $error("%s: issued while busy", Name);

  if (InOrder) begin : g_in_order
    ReadInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
        re_i |-> nrd < srows && raddr_i == src + nrd)
      else $error("%s: read of row %0d, not row %0d of the source run from %0d (%0d rows)",
                  Name, raddr_i, nrd, src, srows);
    ReadBeforeWrite: assert property (@(posedge clk_i) disable iff (!chk_q)
        we_i && wsrc_i && waddr_i >= src_q && waddr_i < src_q + srows_q
        |-> ((waddr_i - src_q) / Block + 1) * Block <= nrd_q)
      else $error("%s: source row %0d written before it was read", Name, waddr_i);
  end else begin : g_in_run
    ReadInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
        re_i |-> raddr_i >= src && raddr_i < src + srows)
      else $error("%s: read of row %0d outside the source run from %0d (%0d rows)",
                  Name, raddr_i, src, srows);
    // Without an order of the reads, an engine checks in-place writes itself.
    /* verilator lint_off UNUSEDSIGNAL */
    logic unused_wsrc;
    /* verilator lint_on UNUSEDSIGNAL */
    assign unused_wsrc = wsrc_i;
  end

  WriteInRun: assert property (@(posedge clk_i) disable iff (!chk_q)
      we_i |-> nwr_q < drows_q && waddr_i == dst_q + nwr_q && nwr_q < nrd_q)
    else $error("%s: write of row %0d, not row %0d of the destination run from %0d (%0d rows)",
                Name, waddr_i, nwr_q, dst_q, drows_q);
  InTime: assert property (@(posedge clk_i) disable iff (!chk_q)
      busy_i || we_i |-> el_q < dl_q)
    else $error("%s: busy %0d cycles after issue, past the deadline %0d", Name, el_q, dl_q);
  AllWritten: assert property (@(posedge clk_i) disable iff (!chk_q)
      $fell(busy_i) && !clear_i && !$past(clear_i) |-> nwr_q == drows_q)
    else $error("%s: %0d rows written of %0d", Name, nwr_q, drows_q);

endmodule
`endif
