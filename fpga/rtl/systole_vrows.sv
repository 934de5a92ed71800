// A VECTOR engine's stream of row reads: rows_i consecutive rows from first_i, one a cycle, the
// first in the cycle of start_i (combinationally, from first_i) and the rest in the cycles after.
//
// Let start_i be high in cycle S (first_i and rows_i are taken then; rows_i >= 1). re_o is 1 in
// S .. S + rows - 1, with addr_o = first + k in S + k; last_o marks the last of them (read it with
// re_o); busy_o is 1 in S + 1 .. S + rows - 1 (the reads after the start cycle: an engine, idle in
// the cycle of its issue, counts these in its busy_o). A start_i while reads are still to come
// begins a new run. clear_i stops the stream in one cycle.
module systole_vrows
#(
  parameter int unsigned Aw   = 12,  // a row address
  parameter int unsigned CntW = 16   // a number of rows
) (
  input  logic            clk_i,
  input  logic            rst_ni,
  input  logic            clear_i,
  input  logic            start_i,
  input  logic [Aw-1:0]   first_i,
  input  logic [CntW-1:0] rows_i,
  output logic            re_o,
  output logic [Aw-1:0]   addr_o,
  output logic            last_o,
  output logic            busy_o
);

  // rd_q: a read after the start cycle, of row row_q, with left_q rows still to read counting it.
  logic            rd_q;
  logic [Aw-1:0]   row_q;
  logic [CntW-1:0] left_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_q   <= 1'b0;
      left_q <= '0;
    end else if (clear_i) begin
      rd_q   <= 1'b0;
      left_q <= '0;
    end else if (start_i) begin
      rd_q   <= rows_i > CntW'(1);
      left_q <= rows_i - CntW'(1);
    end else if (rd_q) begin
      rd_q   <= left_q > CntW'(1);
      left_q <= left_q - CntW'(1);
    end
  end

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      row_q <= first_i + 1'b1;
    end else if (rd_q) begin
      row_q <= row_q + 1'b1;
    end
  end

  assign re_o   = start_i || rd_q;
  assign addr_o = start_i ? first_i : row_q;
  assign last_o = start_i ? rows_i == CntW'(1) : left_q == CntW'(1);
  assign busy_o = rd_q;

endmodule
