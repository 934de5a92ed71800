// The walk of a VECTOR engine that works on groups of rows, reading each group's rows in several
// passes (VSOFTMAX, VNORM): groups groups of grows rows, group g at a_row + g * grows (source) and
// dst_row + g * grows (destination), with the first valid lanes of a group counted (lane l of a
// group is lane l mod D of its row l / D).
//
// start_i (the engine's issue) takes the fields and sets the walk to row 0 of group 0. Each step_i
// moves from the current row r to r + 1, or after the group's last row back to row 0 for the
// next pass; with next_i as well on the last row, to row 0 of the next group. The outputs are
// combinational from registers: row r, its source and destination rows, whether it is the group's
// first or last, its valid lanes (mask_o[j]: lane r * D + j is below valid), and whether another
// group follows this one.
module systole_vgroups
#(
  parameter int unsigned ArrayDim = 16,
  parameter int unsigned Aw       = 12   // a row address
) (
  input  logic                clk_i,
  input  logic                start_i,
  input  logic [15:0]         arow_i,
  input  logic [15:0]         dstrow_i,
  input  logic [15:0]         groups_i,
  input  logic [15:0]         grows_i,
  input  logic [15:0]         valid_i,
  input  logic                step_i,
  input  logic                next_i,
  output logic [15:0]         row_o,
  output logic [Aw-1:0]       raddr_o,
  output logic [Aw-1:0]       waddr_o,
  output logic                first_o,
  output logic                last_o,
  output logic [ArrayDim-1:0] mask_o,
  output logic                more_o
);

  localparam int unsigned D    = ArrayDim;
  localparam int unsigned RowW = 17;   // a row number, up to 2^16

  // The current group's first source and destination rows, the groups still to do (this one
  // included); row_q the row of the group, left_q the valid lanes from it on (valid - row * D, at
  // least 0).
  logic [RowW-1:0] abase_q, dbase_q;
  logic [15:0]     grows_q, valid_q, gleft_q, row_q;
  logic [16:0]     left_q;

  always_ff @(posedge clk_i) begin
    if (start_i) begin
      abase_q <= RowW'(arow_i);
      dbase_q <= RowW'(dstrow_i);
      grows_q <= grows_i;
      valid_q <= valid_i;
      gleft_q <= groups_i;
      row_q   <= '0;
      left_q  <= 17'(valid_i);
    end else if (step_i) begin
      if (!last_o) begin
        row_q  <= row_q + 16'd1;
        left_q <= left_q > 17'(D) ? left_q - 17'(D) : '0;
      end else begin
        row_q  <= '0;
        left_q <= 17'(valid_q);
      end
      if (next_i && last_o) begin
        abase_q <= abase_q + RowW'(grows_q);
        dbase_q <= dbase_q + RowW'(grows_q);
        gleft_q <= gleft_q - 16'd1;
      end
    end
  end

  for (genvar j = 0; j < D; j++) begin : g_mask
    assign mask_o[j] = 17'(j) < left_q;
  end

  assign row_o   = row_q;
  assign raddr_o = Aw'(abase_q + RowW'(row_q));
  assign waddr_o = Aw'(dbase_q + RowW'(row_q));
  assign first_o = row_q == '0;
  assign last_o  = row_q == grows_q - 16'd1;
  assign more_o  = gleft_q > 16'd1;

endmodule
