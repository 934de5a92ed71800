// The sequencing of an iterative unit (systole_udiv, systole_isqrt): a start while idle begins
// Steps steps, one a cycle, and done follows the last.
//
// Schedule: start_i in cycle X while busy_o is low: load_o in X (the unit takes its operands);
// busy_o in X + 1 .. X + Steps (the unit takes a step in each); done_o in the one cycle
// X + Steps + 1. A start_i while busy_o is ignored. clear_i stops the steps in one cycle.
module systole_steps
#(
  parameter  int unsigned Steps = 16,
  localparam int unsigned CntW  = $clog2(Steps + 1)
) (
  input  logic clk_i,
  input  logic rst_ni,
  input  logic clear_i,
  input  logic start_i,
  output logic load_o,
  output logic busy_o,
  output logic done_o
);

  logic [CntW-1:0] cnt_q;     // steps still to run
  logic            done_q;

  assign load_o = start_i && !busy_o;
  assign busy_o = cnt_q != '0;
  assign done_o = done_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q  <= '0;
      done_q <= 1'b0;
    end else if (clear_i) begin
      cnt_q  <= '0;
      done_q <= 1'b0;
    end else begin
      done_q <= cnt_q == CntW'(1);
      if (load_o) begin
        cnt_q <= CntW'(Steps);
      end else if (busy_o) begin
        cnt_q <= cnt_q - 1'b1;
      end
    end
  end

endmodule
